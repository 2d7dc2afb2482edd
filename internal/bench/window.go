package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/dockprobe/dockprobe/internal/prober"
)

// windowCounts are the counters that move during a measurement window.
type windowCounts struct {
	probes  float64 // the operator's dockprobe_health_checks_total
	execs   int     // execs that reached the node
	writes  writeCounts
	elapsed time.Duration
	// The operator's histograms, as (sum of seconds, count).
	probeTime, slotWait [2]float64
	// CPU of the operator and of this process (the node, the bench's polling); the
	// machine's busy and total time are in both.
	operatorCPU, benchCPU cpuTimes
}

func (c windowCounts) minus(b windowCounts) windowCounts {
	return windowCounts{
		probes:    c.probes - b.probes,
		execs:     c.execs - b.execs,
		writes:    c.writes.minus(b.writes),
		elapsed:   c.elapsed - b.elapsed,
		probeTime: [2]float64{c.probeTime[0] - b.probeTime[0], c.probeTime[1] - b.probeTime[1]},
		slotWait:  [2]float64{c.slotWait[0] - b.slotWait[0], c.slotWait[1] - b.slotWait[1]},
		// Differences, kept as cpuTimes: use operatorCPU.process, benchCPU.process and
		// benchCPU's machine figures.
		operatorCPU: cpuTimes{process: c.operatorCPU.process - b.operatorCPU.process},
		benchCPU: cpuTimes{process: c.benchCPU.process - b.benchCPU.process,
			machineBusy: c.benchCPU.machineBusy - b.benchCPU.machineBusy, machine: c.benchCPU.machine - b.benchCPU.machine},
	}
}

// busy is the fraction of the machine's CPU time that was busy over the window.
func (c windowCounts) busy() float64 {
	return ratio(float64(c.benchCPU.machineBusy), float64(c.benchCPU.machine))
}

// meanSeconds is a histogram's mean over the window.
func meanSeconds(h [2]float64) time.Duration {
	return time.Duration(ratio(h[0], h[1]) * float64(time.Second))
}

// window measures the counters' increase over d.
func (r *runner) window(ctx context.Context, d time.Duration) (windowCounts, error) {
	before, err := r.counts(ctx)
	if err != nil {
		return windowCounts{}, err
	}
	if err := sleep(ctx, d); err != nil {
		return windowCounts{}, err
	}
	after, err := r.counts(ctx)
	if err != nil {
		return windowCounts{}, err
	}
	return after.minus(before), nil
}

// counts reads every counter now; elapsed is the time of the reading since the run's start.
func (r *runner) counts(ctx context.Context) (windowCounts, error) {
	var c windowCounts
	ms, err := r.op.metrics(ctx)
	if err != nil {
		return c, fmt.Errorf("reading the operator's metrics: %w", err)
	}
	c.probes = ms.sum(prober.MetricHealthChecksTotal, nil)
	c.probeTime[0], c.probeTime[1] = ms.histogram(prober.MetricProbeDuration)
	c.slotWait[0], c.slotWait[1] = ms.histogram(prober.MetricExecSlotWaitDuration)
	if c.writes, err = apiWrites(ctx, r.h.kube); err != nil {
		return c, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	c.execs = r.h.node.TotalExecs()
	c.elapsed = time.Since(r.res.Started)
	if c.operatorCPU, err = readCPU(r.op.cmd.Process.Pid); err != nil {
		return c, err
	}
	if c.benchCPU, err = readCPU(0); err != nil {
		return c, err
	}
	return c, nil
}

// createRunning creates set's pods (paced over spread) and waits until they all run.
func (r *runner) createRunning(ctx context.Context, set podSet, spread time.Duration) error {
	if err := createPods(ctx, r.h.kube, set, spread); err != nil {
		return err
	}
	timeout := 2*time.Minute + time.Duration(set.n)*20*time.Millisecond
	if err := waitRunning(ctx, r.h.kube, set.namespace, set.labels, set.n, timeout); err != nil {
		return fmt.Errorf("waiting for %d pods of %s: %w", set.n, set.namespace, err)
	}
	return nil
}

// waitReported waits until the HealthChecks of namespace report n targets in all, and
// returns how long that took.
func (r *runner) waitReported(ctx context.Context, namespace string, n int, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	last := 0
	for {
		got, err := targetsReported(ctx, r.h.client, namespace)
		if err == nil && got >= n {
			return time.Since(start), nil
		}
		if err == nil {
			last = got
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: %d of %d targets reported after %v", namespace, last, n, timeout)
		}
		if err := sleep(ctx, reportPoll(n)); err != nil {
			return 0, err
		}
	}
}

// quiesce deletes the HealthChecks of namespace and waits until the node has no exec in
// flight, so that the next phase starts from an idle exec path.
func (r *runner) quiesce(ctx context.Context, namespace string) error {
	if err := deleteHealthChecks(ctx, r.h.client, namespace); err != nil {
		return err
	}
	for range 100 {
		before := r.h.node.TotalExecs()
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
		if r.h.node.InFlight() == 0 && r.h.node.TotalExecs() == before {
			return nil
		}
	}
	return fmt.Errorf("probes into %s still running 50s after its HealthChecks were deleted", namespace)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// reportPoll is how often waitReported reads statuses: often enough for measure 6 at
// 1,000 targets, rarely enough at 10,000 that reading megabytes of status is not what
// loads the API server.
func reportPoll(targets int) time.Duration {
	if targets <= 2000 {
		return 100 * time.Millisecond
	}
	return time.Second
}
