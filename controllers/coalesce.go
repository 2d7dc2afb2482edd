package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// changeKind is how much a computed status differs from the one last written.
type changeKind int

const (
	// noChange: nothing to write.
	noChange changeKind = iota
	// detailChange: only logs or failing streaks differ; written once per flush period.
	detailChange
	// transition: anything users act on differs (a status, a container, the set of
	// targets, a condition, the generation); written within the min write interval.
	transition
)

func (k changeKind) String() string {
	switch k {
	case noChange:
		return "none"
	case detailChange:
		return "detail"
	default:
		return "transition"
	}
}

// classifyChange compares the status last written (or observed) with the computed one.
// Condition lastTransitionTimes are ignored: they move only with a condition's status.
func classifyChange(written, computed *v1alpha1.HealthCheckStatus) changeKind {
	a, b := withoutDetails(written), withoutDetails(computed)
	if !equality.Semantic.DeepEqual(a, b) {
		return transition
	}
	for i := range written.Targets {
		w, c := &written.Targets[i], &computed.Targets[i]
		if w.FailingStreak != c.FailingStreak || !equality.Semantic.DeepEqual(w.Log, c.Log) {
			return detailChange
		}
	}
	return noChange
}

// withoutDetails is a shallow copy of st with the fields that a detail change may touch
// cleared, in copies of the slices (st is not modified).
func withoutDetails(st *v1alpha1.HealthCheckStatus) v1alpha1.HealthCheckStatus {
	out := *st
	out.Targets = make([]v1alpha1.TargetStatus, len(st.Targets))
	for i, t := range st.Targets {
		t.Log, t.FailingStreak = nil, 0
		out.Targets[i] = t
	}
	out.Conditions = copyConditions(st.Conditions)
	for i := range out.Conditions {
		out.Conditions[i].LastTransitionTime = metaTimeZero
	}
	if len(out.Targets) == 0 {
		out.Targets = nil
	}
	if len(out.Conditions) == 0 {
		out.Conditions = nil
	}
	return out
}

// flushPolicy decides when a changed status is written.
type flushPolicy struct {
	// FlushPeriod spaces writes of detail changes.
	FlushPeriod time.Duration
	// MinWriteInterval spaces every write, transitions included.
	MinWriteInterval time.Duration
}

// decide returns whether to write now and, when not, how long to wait. lastWrite is the
// time of this HealthCheck's last write by this process (zero when none).
func (p flushPolicy) decide(now, lastWrite time.Time, kind changeKind) (write bool, wait time.Duration) {
	var gap time.Duration
	switch kind {
	case noChange:
		return false, 0
	case detailChange:
		gap = p.FlushPeriod
	default:
		gap = p.MinWriteInterval
	}
	if lastWrite.IsZero() {
		return true, 0
	}
	if due := lastWrite.Add(gap); now.Before(due) {
		return false, due.Sub(now)
	}
	return true, 0
}

// kickState is what the health store knows of a HealthCheck's pending reconcile.
type kickState struct {
	// kicked: a reconcile was requested and has not started yet.
	kicked bool
	// deferredUntil: the last reconcile put a write off until then (zero: none pending).
	deferredUntil time.Time
}

// shouldKick decides whether a probe update wakes the reconciler. Urgent updates (a
// status change, a monitor start) do unless a reconcile is already requested or a
// deferred write comes soon enough; detail updates wait for the deferred write if any.
func shouldKick(now time.Time, urgent bool, s kickState, minWriteInterval time.Duration) bool {
	if s.kicked {
		return false
	}
	if s.deferredUntil.IsZero() {
		return true
	}
	return urgent && s.deferredUntil.After(now.Add(minWriteInterval))
}

var metaTimeZero = metav1.Time{}
