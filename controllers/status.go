package controllers

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
)

// knownHealth is the last health known for a target, and the container instance it
// belongs to.
type knownHealth struct {
	ContainerID string
	Health      prober.Health
}

// targetStatus is one target's entry in the status.
//   - Probed: the monitor's health.
//   - Not probed but known (the container stopped, its monitor with it): unhealthy, as
//     Docker marks a container whose health monitor stopped; streak and log kept.
//   - A container the pod does not have: unhealthy, since it can never become healthy.
//   - Otherwise (never ran yet): starting.
func targetStatus(p targetPlan, known *knownHealth) v1alpha1.TargetStatus {
	ts := v1alpha1.TargetStatus{Pod: p.Pod, Container: p.Container, Status: v1alpha1.Starting}
	if known != nil {
		ts.ContainerID = known.ContainerID
		ts.Status = known.Health.Status
		ts.FailingStreak = int32(known.Health.FailingStreak)
		ts.Log = logEntries(known.Health.Log)
	}
	switch {
	case p.Probe:
		ts.ContainerID = p.Target.ContainerID
		if known == nil {
			ts.Status, ts.FailingStreak = v1alpha1.Starting, 0
		}
	case p.Missing:
		ts.Status, ts.Message = v1alpha1.Unhealthy, p.Reason
	case known != nil:
		ts.Status, ts.Message = v1alpha1.Unhealthy, p.Reason
	default:
		ts.Message = p.Reason
		if p.Target.ContainerID != "" {
			ts.ContainerID = p.Target.ContainerID
		}
	}
	if ts.Status == "" {
		ts.Status = v1alpha1.Starting
	}
	return ts
}

// seedFor is the health a new monitor starts from when none runs for the target:
//   - the last health held in memory (a container that stopped and started again, or a
//     monitor stopped for another reason), else
//   - the target's entry in the written status (operator restart), used as is only when
//     it describes this very container under the current spec generation.
//
// Health of another container instance is reset to starting with streak 0, log kept,
// as Docker does on a restart. nil means a fresh start.
func seedFor(p targetPlan, memory *knownHealth, written *v1alpha1.TargetStatus, sameGeneration bool) *prober.Health {
	switch {
	case memory != nil:
		if memory.ContainerID == p.Target.ContainerID {
			h := cloneHealth(memory.Health)
			return &h
		}
		return &prober.Health{Status: v1alpha1.Starting, Log: cloneResults(memory.Health.Log)}
	case written != nil && written.Container == p.Container:
		h := healthFromStatus(written)
		if written.ContainerID == p.Target.ContainerID && sameGeneration && written.Message == "" {
			return &h
		}
		return &prober.Health{Status: v1alpha1.Starting, Log: h.Log}
	}
	return nil
}

// healthFromStatus reads a target's health back from the status.
func healthFromStatus(ts *v1alpha1.TargetStatus) prober.Health {
	h := prober.Health{Status: ts.Status, FailingStreak: int(ts.FailingStreak)}
	for _, e := range ts.Log {
		h.Log = append(h.Log, prober.Result{Start: e.Start.Time, End: e.End.Time, ExitCode: int(e.ExitCode), Output: e.Output})
	}
	return h
}

func logEntries(results []prober.Result) []v1alpha1.HealthLogEntry {
	if len(results) == 0 {
		return nil
	}
	log := make([]v1alpha1.HealthLogEntry, len(results))
	for i, r := range results {
		log[i] = v1alpha1.HealthLogEntry{
			// Microseconds, as the API stores them, so what was written compares equal to what is read back.
			Start:    metav1.NewMicroTime(r.Start.Truncate(time.Microsecond)),
			End:      metav1.NewMicroTime(r.End.Truncate(time.Microsecond)),
			ExitCode: int32(r.ExitCode),
			Output:   r.Output,
		}
	}
	return log
}

func cloneHealth(h prober.Health) prober.Health {
	h.Log = cloneResults(h.Log)
	return h
}

func cloneResults(rs []prober.Result) []prober.Result {
	if rs == nil {
		return nil
	}
	return append([]prober.Result(nil), rs...)
}

// statusInput is everything the status of a HealthCheck is computed from.
type statusInput struct {
	Generation int64
	// Disabled is test ["NONE"]: nothing runs.
	Disabled bool
	// SelectorError is set when spec.selector cannot be used.
	SelectorError error
	// Targets, sorted by pod.
	Targets []v1alpha1.TargetStatus
	// PreviousConditions keep their lastTransitionTime while their status holds.
	PreviousConditions []metav1.Condition
	Now                time.Time
}

// maxNamedPods bounds how many pods a condition message names.
const maxNamedPods = 5

// computeStatus aggregates the targets: counts, ready "healthy/total", the overall status
// (the worst target's; none when nothing is checked) and the Ready condition, True only
// when every target is healthy and there is at least one.
func computeStatus(in statusInput) v1alpha1.HealthCheckStatus {
	st := v1alpha1.HealthCheckStatus{ObservedGeneration: in.Generation}
	if in.Disabled || in.SelectorError != nil {
		in.Targets = nil
	}
	st.Targets = in.Targets
	var unhealthy, starting []string
	for _, t := range in.Targets {
		switch t.Status {
		case v1alpha1.Healthy:
			st.Healthy++
		case v1alpha1.Unhealthy:
			st.Unhealthy++
			unhealthy = append(unhealthy, t.Pod)
		default:
			st.Starting++
			starting = append(starting, t.Pod)
		}
	}
	st.Total = int32(len(in.Targets))
	st.Ready = fmt.Sprintf("%d/%d", st.Healthy, st.Total)

	cond := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, ObservedGeneration: in.Generation}
	switch {
	case in.SelectorError != nil:
		st.Status = v1alpha1.OverallNone
		cond.Reason = v1alpha1.ReasonInvalidSelector
		cond.Message = "Invalid selector: " + in.SelectorError.Error()
	case in.Disabled:
		st.Status = v1alpha1.OverallNone
		cond.Reason = v1alpha1.ReasonCheckDisabled
		cond.Message = "The test is NONE: no check runs"
	case st.Total == 0:
		st.Status = v1alpha1.OverallNone
		cond.Reason = v1alpha1.ReasonNoTargets
		cond.Message = "No pod matches the selector"
	case st.Unhealthy > 0:
		st.Status = v1alpha1.OverallUnhealthy
		cond.Reason = v1alpha1.ReasonSomeUnhealthy
		cond.Message = fmt.Sprintf("%d/%d targets unhealthy: %s", st.Unhealthy, st.Total, namePods(unhealthy))
	case st.Starting > 0:
		st.Status = v1alpha1.OverallStarting
		cond.Reason = v1alpha1.ReasonSomeStarting
		cond.Message = fmt.Sprintf("%d/%d targets starting: %s", st.Starting, st.Total, namePods(starting))
	default:
		st.Status = v1alpha1.OverallHealthy
		cond.Status = metav1.ConditionTrue
		cond.Reason = v1alpha1.ReasonAllHealthy
		cond.Message = fmt.Sprintf("%d/%d targets healthy", st.Healthy, st.Total)
	}
	st.Conditions = copyConditions(in.PreviousConditions)
	cond.LastTransitionTime = metav1.NewTime(in.Now).Rfc3339Copy()
	meta.SetStatusCondition(&st.Conditions, cond)
	return st
}

func namePods(pods []string) string {
	if len(pods) <= maxNamedPods {
		return strings.Join(pods, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(pods[:maxNamedPods], ", "), len(pods)-maxNamedPods)
}

func copyConditions(cs []metav1.Condition) []metav1.Condition {
	if cs == nil {
		return nil
	}
	out := make([]metav1.Condition, len(cs))
	for i := range cs {
		cs[i].DeepCopyInto(&out[i])
	}
	return out
}
