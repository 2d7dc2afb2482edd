package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// flapping is measure 4 at its worst: with retries 1 and a check that alternates between
// exit 0 and exit 1, every probe changes its target's status (and is an event).
func (r *runner) flapping(ctx context.Context) error {
	o := r.opts
	set := podSet{namespace: "bench-flapping", prefix: "flap", n: o.FlapTargets, labels: map[string]string{"bench": "flapping"}}
	for i := range set.n {
		// A Cycle of its own per container: each one alternates on its own probes.
		r.h.node.SetHandler(set.namespace, set.name(i), "app",
			kubeletsim.Cycle(kubeletsim.Reply(1, "down\n"), kubeletsim.Reply(0, "up\n")))
	}
	if err := r.createRunning(ctx, set, 0); err != nil {
		return err
	}
	spec := checkSpec{interval: o.FlapInterval, timeout: 10 * time.Second, retries: 1}
	if err := createHealthCheck(ctx, r.h.client, set.namespace, "flapping", set.labels, spec); err != nil {
		return err
	}
	if _, err := r.waitReported(ctx, set.namespace, set.n, 2*time.Minute); err != nil {
		return err
	}
	if err := sleep(ctx, 2*o.FlapInterval); err != nil {
		return err
	}
	w, err := r.window(ctx, o.FlapWindow)
	if err != nil {
		return err
	}
	r.res.Flapping = Writes{Targets: set.n, Interval: o.FlapInterval, Probes: w.probes, Elapsed: w.elapsed, Writes: w.writes}
	r.log.Info("Writes while flapping", "probes", w.probes,
		"statusWritesPerProbe", fmt.Sprintf("%.3f", r.res.Flapping.StatusPerProbe()),
		"eventWritesPerProbe", fmt.Sprintf("%.3f", r.res.Flapping.EventsPerProbe()))
	return r.quiesce(ctx, set.namespace)
}
