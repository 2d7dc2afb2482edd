package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Docker's defaults, used when a field is unset or explicitly 0 (as in Docker, 0 means "default").
const (
	DefaultInterval      = 30 * time.Second
	DefaultTimeout       = 30 * time.Second
	DefaultStartPeriod   = time.Duration(0)
	DefaultStartInterval = 5 * time.Second
	DefaultRetries       = 3
)

// Test types, the first element of spec.test.
const (
	TestCmd      = "CMD"
	TestCmdShell = "CMD-SHELL"
	TestNone     = "NONE"
)

// DefaultContainerAnnotation names the container kubectl picks by default; dockprobe does too.
const DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// Condition types and reasons written by the operator.
const (
	// ConditionReady is True when every target is healthy.
	ConditionReady = "Ready"

	ReasonAllHealthy      = "AllHealthy"
	ReasonSomeUnhealthy   = "Unhealthy"
	ReasonSomeStarting    = "Starting"
	ReasonNoTargets       = "NoTargets"
	ReasonCheckDisabled   = "CheckDisabled"
	ReasonInvalidSelector = "InvalidSelector"
)

// Effective durations and retries with Docker's defaults applied. The API server stores
// the defaults for unset fields; these also turn an explicit 0 into the default.

// EffectiveInterval returns spec.interval, or the default when unset or 0.
func (s *HealthCheckSpec) EffectiveInterval() time.Duration {
	return orDefault(s.Interval, DefaultInterval)
}

// EffectiveTimeout returns spec.timeout, or the default when unset or 0.
func (s *HealthCheckSpec) EffectiveTimeout() time.Duration {
	return orDefault(s.Timeout, DefaultTimeout)
}

// EffectiveStartPeriod returns spec.startPeriod, or 0 when unset.
func (s *HealthCheckSpec) EffectiveStartPeriod() time.Duration {
	if s.StartPeriod == nil {
		return DefaultStartPeriod
	}
	return s.StartPeriod.Duration
}

// EffectiveStartInterval returns spec.startInterval, or the default when unset or 0.
func (s *HealthCheckSpec) EffectiveStartInterval() time.Duration {
	return orDefault(s.StartInterval, DefaultStartInterval)
}

// EffectiveRetries returns spec.retries, or the default when unset or not positive.
func (s *HealthCheckSpec) EffectiveRetries() int {
	if s.Retries == nil || *s.Retries <= 0 {
		return DefaultRetries
	}
	return int(*s.Retries)
}

// Disabled reports whether the test is ["NONE"].
func (s *HealthCheckSpec) Disabled() bool {
	return len(s.Test) > 0 && s.Test[0] == TestNone
}

func orDefault(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil || d.Duration == 0 {
		return def
	}
	return d.Duration
}
