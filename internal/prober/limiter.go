package prober

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// DefaultMaxInFlight is the default cap on execs in flight across all monitors of a Manager.
// pods/exec is exempt from API Priority and Fairness, so the operator must cap itself.
const DefaultMaxInFlight = 32

// limiter caps the execs in flight. Waiters are served first come, first served
// (semaphore.Weighted queues them FIFO), so with thousands of monitors no probe starves:
// a probe waits at most for the probes queued before it. A slot is held from just
// before the exec until the exec has really returned, which may be after its probe
// already reported a timeout: the cap counts execs, not monitors.
// Safe for concurrent use; it holds no lock while anyone waits.
type limiter struct {
	sem     *semaphore.Weighted
	metrics *metrics
}

func newLimiter(maxInFlight int, m *metrics) *limiter {
	if maxInFlight <= 0 {
		maxInFlight = DefaultMaxInFlight
	}
	return &limiter{sem: semaphore.NewWeighted(int64(maxInFlight)), metrics: m}
}

// acquire waits for a slot; it fails only when ctx is done first.
func (l *limiter) acquire(ctx context.Context) error {
	if err := l.sem.Acquire(ctx, 1); err != nil {
		return err
	}
	l.metrics.execsInFlight.Inc()
	return nil
}

// release returns a slot taken by acquire.
func (l *limiter) release() {
	l.metrics.execsInFlight.Dec()
	l.sem.Release(1)
}
