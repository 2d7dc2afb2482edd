package bench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// fidelity is measure 3, and measure 4 at steady state: FidelityTargets healthy targets
// at FidelityInterval. The HealthChecks exist first and the pods are created evenly over
// one interval, so that the targets' schedules are spread as those of containers started
// at different times are (pods created all at once would make every first probe due in
// the same second: a burst the exec path needs seconds to drain, whatever the scheduler).
//
// Lateness is measured from the results themselves: Docker plans each probe at the
// previous probe's end plus the interval, so for consecutive log entries of a target
// lateness = next.Start - (previous.End + interval). The operator stamps Start when the
// probe gets its exec slot, so waiting for a slot counts as lateness.
func (r *runner) fidelity(ctx context.Context) error {
	o := r.opts
	const ns = "bench-fidelity"
	spec := checkSpec{interval: o.FidelityInterval, timeout: 10 * time.Second, retries: 3}
	checks := (o.FidelityTargets + o.FidelityPerCheck - 1) / o.FidelityPerCheck
	if err := ensureNamespace(ctx, r.h.kube, ns); err != nil {
		return err
	}
	for i := range checks {
		name := "fidelity-" + strconv.Itoa(i)
		if err := createHealthCheck(ctx, r.h.client, ns, name, map[string]string{"check": name}, spec); err != nil {
			return err
		}
	}
	for i := range checks {
		name := "fidelity-" + strconv.Itoa(i)
		set := podSet{namespace: ns, prefix: "f", first: i * o.FidelityPerCheck,
			n: min(o.FidelityPerCheck, o.FidelityTargets-i*o.FidelityPerCheck), labels: map[string]string{"check": name}}
		if err := createPods(ctx, r.h.kube, set, o.FidelityInterval/time.Duration(checks)); err != nil {
			return err
		}
	}
	if _, err := r.waitReported(ctx, ns, o.FidelityTargets, 3*time.Minute); err != nil {
		return err
	}
	// One interval more: every target has had its first probe and is on its own schedule.
	if err := sleep(ctx, o.FidelityInterval); err != nil {
		return err
	}

	windowStart := time.Now()
	before, err := r.counts(ctx)
	if err != nil {
		return err
	}
	logs := targetLogs{}
	// Five results per target are kept: reading every two intervals loses none.
	poll := min(o.FidelityInterval*2, 10*time.Second)
	for time.Since(windowStart) < o.FidelityWindow {
		if err := sleep(ctx, min(poll, o.FidelityWindow-time.Since(windowStart))); err != nil {
			return err
		}
		hcs, err := listHealthChecks(ctx, r.h.client, ns)
		if err != nil {
			return err
		}
		logs.add(hcs)
	}
	after, err := r.counts(ctx)
	if err != nil {
		return err
	}
	w := after.minus(before)

	lateness, early := logs.lateness(o.FidelityInterval, windowStart)
	r.res.Fidelity = Fidelity{
		Targets: o.FidelityTargets, Checks: checks, Interval: o.FidelityInterval,
		Lateness: summarize(lateness), Early: early, ProbesPerSecond: perSecond(w.probes, w.elapsed),
		SlotWait: meanSeconds(w.slotWait),
	}
	r.res.Steady = Writes{Targets: o.FidelityTargets, Interval: o.FidelityInterval, Probes: w.probes, Elapsed: w.elapsed, Writes: w.writes}
	r.log.Info("Schedule fidelity", "samples", len(lateness), "p50", r.res.Fidelity.Lateness.P50,
		"p99", r.res.Fidelity.Lateness.P99, "max", r.res.Fidelity.Lateness.Max,
		"statusWritesPerProbe", fmt.Sprintf("%.3f", r.res.Steady.StatusPerProbe()))
	if len(lateness) == 0 {
		return fmt.Errorf("no pair of consecutive results in %v: is the window shorter than two intervals?", o.FidelityWindow)
	}
	return r.quiesce(ctx, ns)
}

// targetLogs gathers the results seen in statuses, per target and by start time, so
// that reading the same result twice counts it once.
type targetLogs map[string]map[time.Time]v1alpha1.HealthLogEntry

func (t targetLogs) add(hcs []v1alpha1.HealthCheck) {
	for i := range hcs {
		for _, tg := range hcs[i].Status.Targets {
			key := hcs[i].Name + "/" + tg.Pod + "/" + tg.Container
			if t[key] == nil {
				t[key] = map[time.Time]v1alpha1.HealthLogEntry{}
			}
			for _, e := range tg.Log {
				t[key][e.Start.Time] = e
			}
		}
	}
}

// lateness returns next.Start - (previous.End + interval) for each pair of consecutive
// results whose previous result ended after since. A negative lateness (a probe started
// before plan, by the timestamps' microsecond granularity) counts as 0 and in early.
func (t targetLogs) lateness(interval time.Duration, since time.Time) (out []time.Duration, early int) {
	for _, byStart := range t {
		entries := slices.Collect(func(yield func(v1alpha1.HealthLogEntry) bool) {
			for _, e := range byStart {
				if !yield(e) {
					return
				}
			}
		})
		slices.SortFunc(entries, func(a, b v1alpha1.HealthLogEntry) int { return a.Start.Compare(b.Start.Time) })
		for i := 1; i < len(entries); i++ {
			prev, next := entries[i-1], entries[i]
			if prev.End.Time.Before(since) {
				continue
			}
			late := next.Start.Sub(prev.End.Add(interval))
			if late < 0 {
				early++
				late = 0
			}
			out = append(out, late)
		}
	}
	return out, early
}
