package prober

import (
	"slices"
	"time"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

const (
	// maxLogEntries is Docker's length of State.Health.Log.
	maxLogEntries = 5
	// exitHealthy is the only exit code that counts as a success.
	exitHealthy = 0
	// exitProbeError is the exit code of a probe that could not run or timed out.
	exitProbeError = -1
)

// Result is one probe's outcome (one Docker log entry).
type Result struct {
	Start, End time.Time
	ExitCode   int
	Output     string
}

// Health is a VALUE SNAPSHOT of one monitor's state: Log is a fresh copy, oldest first,
// at most 5 entries. Changing it changes nothing in the monitor.
type Health struct {
	Status        v1alpha1.HealthStatus // starting | healthy | unhealthy
	FailingStreak int
	Log           []Result
}

// health is a monitor's live state. It is owned by the monitor's goroutine; everything
// else sees copies made by snapshot.
type health struct {
	status v1alpha1.HealthStatus
	streak int
	log    []Result
}

// newHealth is the state of a container that has just started: starting, no failures, and
// the log kept from before (Docker keeps the log across restarts).
func newHealth(log []Result) health {
	return health{status: v1alpha1.Starting, log: trimLog(slices.Clone(log))}
}

// healthFrom resumes from a snapshot (a seed): an unknown or empty status resumes as starting.
func healthFrom(h Health) health {
	s := health{status: h.Status, streak: max(h.FailingStreak, 0), log: trimLog(slices.Clone(h.Log))}
	switch s.status {
	case v1alpha1.Starting, v1alpha1.Healthy, v1alpha1.Unhealthy:
	default:
		s.status, s.streak = v1alpha1.Starting, 0
	}
	return s
}

// snapshot returns a copy that shares nothing with the live state.
func (h health) snapshot() Health {
	return Health{Status: h.status, FailingStreak: h.streak, Log: slices.Clone(h.log)}
}

// apply records one result, as Docker's handleProbeResult: append to the log (newest 5 kept);
// success makes the target healthy and clears the streak; a failure counts towards retries
// unless the target is still starting and the probe started inside the start period.
// So the start period protects only until the first success.
func (h *health) apply(r Result, startedAt time.Time, cfg Config) {
	cfg = cfg.withDefaults()
	if len(h.log) >= maxLogEntries {
		// Shift in place: the log never grows past maxLogEntries nor reallocates.
		n := copy(h.log, h.log[len(h.log)-maxLogEntries+1:])
		h.log = append(h.log[:n], r)
	} else {
		h.log = append(h.log, r)
	}

	if r.ExitCode == exitHealthy {
		h.streak = 0
		h.status = v1alpha1.Healthy
		return
	}
	if h.status == v1alpha1.Starting && r.Start.Sub(startedAt) < cfg.StartPeriod {
		return
	}
	h.streak++
	if h.streak >= cfg.Retries {
		h.status = v1alpha1.Unhealthy
	}
}

// nextWait is the wait before the next probe, measured from now (the end of the previous
// probe, or the monitor's start): Interval once the start period is over; inside it,
// StartInterval while still starting. With StartPeriod 0 StartInterval is never used.
func nextWait(now, startedAt time.Time, status v1alpha1.HealthStatus, cfg Config) time.Duration {
	cfg = cfg.withDefaults()
	if now.Sub(startedAt) >= cfg.StartPeriod {
		return cfg.Interval
	}
	if status == v1alpha1.Starting {
		return cfg.StartInterval
	}
	return cfg.Interval
}

// trimLog keeps the newest maxLogEntries entries.
func trimLog(log []Result) []Result {
	if len(log) > maxLogEntries {
		return log[len(log)-maxLogEntries:]
	}
	return log
}
