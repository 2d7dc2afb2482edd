package bench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// rawExec is measure 1: client-go alone against the node, at each level of execs in
// flight, each worker on a pod of its own.
func (r *runner) rawExec(ctx context.Context) error {
	levels := r.opts.RawInFlight
	set := podSet{namespace: "bench-raw", prefix: "raw", n: slices.Max(levels), labels: map[string]string{"bench": "raw"}}
	if err := createPods(ctx, r.h.kube, set, 0); err != nil {
		return err
	}
	if err := waitRunning(ctx, r.h.kube, set.namespace, set.labels, set.n, 2*time.Minute); err != nil {
		return fmt.Errorf("waiting for %d pods: %w", set.n, err)
	}
	pods := make([]string, set.n)
	for i := range pods {
		pods[i] = set.name(i)
	}
	execer, err := newRawExecer(r.h.config)
	if err != nil {
		return err
	}
	r.raw.execer, r.raw.namespace, r.raw.pods = execer, set.namespace, pods
	// Warm up connections and the API server's caches; not counted.
	measureRawExec(ctx, execer, set.namespace, pods, slices.Max(levels), 2*time.Second)
	for _, n := range levels {
		res := measureRawExec(ctx, execer, set.namespace, pods, n, r.opts.RawWindow)
		r.log.Info("Raw exec", "inFlight", n, "perSecond", fmt.Sprintf("%.1f", res.PerSecond()),
			"p50", res.Latency.P50, "p99", res.Latency.P99, "errors", res.Errors, "firstError", res.FirstError)
		if res.Execs == 0 {
			return fmt.Errorf("no exec succeeded at %d in flight (%d errors)", n, res.Errors)
		}
		r.res.Raw = append(r.res.Raw, res)
	}
	return ctx.Err()
}
