package bench

import (
	"context"
	"fmt"
	"time"
)

// throughput is measure 2: more targets at a shorter interval than the exec path can
// serve, so the operator runs as many probes as it can; compared with measure 1.
func (r *runner) throughput(ctx context.Context) error {
	if err := r.startOperator(ctx, "operator-1"); err != nil {
		return err
	}
	o := r.opts
	set := podSet{namespace: "bench-throughput", prefix: "t", n: o.ThroughputTargets, labels: map[string]string{"bench": "throughput"}}
	if err := r.createRunning(ctx, set, 0); err != nil {
		return err
	}
	spec := checkSpec{interval: o.ThroughputInterval, timeout: 10 * time.Second, retries: 3}
	if err := createHealthCheck(ctx, r.h.client, set.namespace, "throughput", set.labels, spec); err != nil {
		return err
	}
	if _, err := r.waitReported(ctx, set.namespace, set.n, 2*time.Minute); err != nil {
		return err
	}
	if err := sleep(ctx, o.ThroughputWarmup); err != nil {
		return err
	}

	r.h.node.ResetCounters() // for the high-water mark of execs in flight
	w, err := r.window(ctx, o.ThroughputWindow)
	if err != nil {
		return err
	}
	t := Throughput{
		Targets: set.n, Interval: o.ThroughputInterval, Probes: w.probes, Execs: w.execs,
		Elapsed: w.elapsed, Writes: w.writes, NodeMaxInFlight: r.h.node.MaxInFlight(),
		ProbeTime: meanSeconds(w.probeTime), SlotWait: meanSeconds(w.slotWait),
		OperatorCPU: w.operatorCPU.process, BenchCPU: w.benchCPU.process, Busy: w.busy(),
	}
	r.res.Throughput = t
	r.log.Info("Operator throughput", "perSecond", fmt.Sprintf("%.1f", t.PerSecond()),
		"nodeExecsPerSecond", fmt.Sprintf("%.1f", perSecond(float64(w.execs), w.elapsed)),
		"meanInFlight", fmt.Sprintf("%.1f", t.InFlight()), "probeTime", t.ProbeTime, "slotWait", t.SlotWait,
		"nodeMaxInFlight", t.NodeMaxInFlight, "operatorCPUPerProbe", t.OperatorCPUPerProbe(),
		"machineBusy", fmt.Sprintf("%.0f%%", 100*t.Busy))
	if err := r.quiesce(ctx, set.namespace); err != nil {
		return err
	}
	// The raw rate again, right after: the ratio is only as good as the ceiling is stable.
	r.res.Throughput.Recheck = measureRawExec(ctx, r.raw.execer, r.raw.namespace, r.raw.pods,
		t.MaxInFlightCap(o), o.RawWindow)
	r.log.Info("Raw exec re-measured", "inFlight", r.res.Throughput.Recheck.InFlight,
		"perSecond", fmt.Sprintf("%.1f", r.res.Throughput.Recheck.PerSecond()))
	return ctx.Err()
}
