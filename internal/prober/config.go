package prober

import (
	"slices"
	"time"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// Config is one HealthCheck's check with Docker's defaults applied (0 already replaced).
// A Config built by hand may leave fields 0: the monitor applies the same defaults.
type Config struct {
	// Test is spec.test: ["CMD", argv...], ["CMD-SHELL", script, args...] or ["NONE"].
	Test []string
	// Shell runs a CMD-SHELL test; empty means /bin/sh -c, or cmd /S /C for Windows targets.
	Shell         []string
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	// Retries is the failing streak that makes a target unhealthy; <= 0 means 3.
	Retries int
}

// ConfigFromSpec builds a Config from a HealthCheckSpec, with Docker's defaults applied.
func ConfigFromSpec(spec *v1alpha1.HealthCheckSpec) Config {
	return Config{
		Test:          slices.Clone(spec.Test),
		Shell:         slices.Clone(spec.Shell),
		Interval:      spec.EffectiveInterval(),
		Timeout:       spec.EffectiveTimeout(),
		StartPeriod:   spec.EffectiveStartPeriod(),
		StartInterval: spec.EffectiveStartInterval(),
		Retries:       spec.EffectiveRetries(),
	}
}

// Equal reports whether two Configs run the same check on the same schedule,
// after defaults (so a 0 and its default are equal).
func (c Config) Equal(o Config) bool {
	a, b := c.withDefaults(), o.withDefaults()
	return slices.Equal(a.Test, b.Test) &&
		slices.Equal(a.Shell, b.Shell) &&
		a.Interval == b.Interval &&
		a.Timeout == b.Timeout &&
		a.StartPeriod == b.StartPeriod &&
		a.StartInterval == b.StartInterval &&
		a.Retries == b.Retries
}

// Disabled reports whether the test is ["NONE"]: Docker runs no monitor then, and neither do we.
func (c Config) Disabled() bool {
	return len(c.Test) > 0 && c.Test[0] == v1alpha1.TestNone
}

// withDefaults replaces 0 (and retries <= 0) by Docker's defaults, as Docker's
// timeoutWithDefault does at the moment it reads the config.
func (c Config) withDefaults() Config {
	if c.Interval == 0 {
		c.Interval = v1alpha1.DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = v1alpha1.DefaultTimeout
	}
	if c.StartInterval == 0 {
		c.StartInterval = v1alpha1.DefaultStartInterval
	}
	if c.Retries <= 0 {
		c.Retries = v1alpha1.DefaultRetries
	}
	return c
}

// Target is one container instance to probe.
type Target struct {
	Namespace, Pod, Container string
	// ContainerID changes when the container restarts.
	ContainerID string
	// StartedAt is containerStatuses[].state.running.startedAt: the start period counts from it.
	StartedAt time.Time
	// Windows is true when the pod's spec.os.name is windows (CMD-SHELL then uses cmd /S /C).
	Windows bool
}

// Equal reports whether two Targets name the same container instance with the same facts.
// StartedAt is compared as an instant, so a value that went through the API (and lost
// its monotonic reading or location) still equals the original.
func (t Target) Equal(o Target) bool {
	return t.Namespace == o.Namespace &&
		t.Pod == o.Pod &&
		t.Container == o.Container &&
		t.ContainerID == o.ContainerID &&
		t.StartedAt.Equal(o.StartedAt) &&
		t.Windows == o.Windows
}

// Key identifies a monitor: one HealthCheck (Namespace/Owner) x one Pod.
type Key struct{ Namespace, Owner, Pod string }

// Spec is what a monitor runs.
type Spec struct {
	Config Config
	Target Target
}

// Equal reports whether two Specs run the same check against the same container instance.
func (s Spec) Equal(o Spec) bool {
	return s.Config.Equal(o.Config) && s.Target.Equal(o.Target)
}
