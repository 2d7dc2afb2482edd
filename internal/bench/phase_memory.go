package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// idleInterval makes targets idle: no probe runs during the measurement.
const idleInterval = time.Hour

// settle is how long the operator is left alone before its memory is read, so that the
// status writes that follow new targets are done.
const settle = 5 * time.Second

// memory is measures 5 and 6 on a fresh operator process: its heap after a forced GC and
// its RSS with no target of this phase, then at each size of idle targets (one
// HealthCheck per MemoryPerCheck pods); the per-target figures are the increase over
// that baseline. The pods of earlier phases stay in the cluster, and so in the
// operator's pod cache, on both sides of the difference. Measure 6 is the first
// HealthCheck's: from its creation, over MemoryTargets[0] running pods, to every target
// reported.
func (r *runner) memory(ctx context.Context) error {
	if err := r.startOperator(ctx, "operator-2"); err != nil {
		return err
	}
	if err := sleep(ctx, settle); err != nil {
		return err
	}
	base, err := r.readMemory(ctx, 0)
	if err != nil {
		return err
	}
	r.log.Info("Memory baseline", "heap", mib(base.heap), "rss", mib(base.rss))

	const ns = "bench-memory"
	o := r.opts
	spec := checkSpec{interval: idleInterval, timeout: 10 * time.Second, retries: 3}
	created := 0
	for si, size := range o.MemoryTargets {
		for created < size {
			check := created / o.MemoryPerCheck
			name := "idle-" + strconv.Itoa(check)
			set := podSet{namespace: ns, prefix: "m", first: created,
				n: min(o.MemoryPerCheck-created%o.MemoryPerCheck, size-created), labels: map[string]string{"check": name}}
			if err := r.createRunning(ctx, set, 0); err != nil {
				return err
			}
			created += set.n
			if created%o.MemoryPerCheck != 0 && created < size {
				continue
			}
			// A HealthCheck that exists already (a group left partial by the previous
			// size) selects the new pods by itself.
			start := time.Now()
			if err := createHealthCheck(ctx, r.h.client, ns, name, set.labels, spec); err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
			if _, err := r.waitReported(ctx, ns, created, 5*time.Minute); err != nil {
				return err
			}
			if si == 0 && check == 0 {
				r.res.Startup = Startup{Targets: set.n, Took: time.Since(start)}
				r.log.Info("Start-up", "targets", set.n, "took", r.res.Startup.Took)
			}
		}
		if err := sleep(ctx, settle); err != nil {
			return err
		}
		m, err := r.readMemory(ctx, size)
		if err != nil {
			return err
		}
		res := Memory{
			Targets: size, Heap: m.heap, HeapBaseline: base.heap, RSS: m.rss, RSSBaseline: base.rss,
			HeapLive: m.heapLive, HeapLiveBaseline: base.heapLive,
			Stack: m.stack, StackBaseline: base.stack,
		}
		if m.byCategory != nil && base.byCategory != nil {
			res.HeapShares = m.byCategory.perTarget(base.byCategory, size)
		}
		r.res.Memory = append(r.res.Memory, res)
		r.log.Info("Memory", "targets", size, "heap", mib(m.heap), "rss", mib(m.rss),
			"heapPerTarget", kib(res.HeapPerTarget()), "stackPerTarget", kib(res.StackPerTarget()),
			"rssPerTarget", kib(res.RSSPerTarget()))
	}
	return nil
}

type memoryReading struct {
	heap, heapLive, stack, rss float64
	// byCategory is the heap profile's breakdown; nil when the profile was unreadable.
	byCategory heapBreakdown
}

// readMemory forces a GC in the operator, then reads its heap from its metrics and its
// RSS from /proc. The heap profile of that GC is kept in the scratch directory as
// heap-<targets>.pprof (`go run ./hack/bench -dir DIR` keeps it), for `go tool pprof`.
func (r *runner) readMemory(ctx context.Context, targets int) (memoryReading, error) {
	profile, err := r.op.heapProfile(ctx)
	if err != nil {
		return memoryReading{}, fmt.Errorf("forcing a GC through pprof: %w", err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, fmt.Sprintf("heap-%d.pprof", targets)), profile, 0o644); err != nil {
		return memoryReading{}, err
	}
	byCategory, err := breakdownHeap(profile)
	if err != nil {
		r.log.Error(err, "No heap breakdown", "targets", targets)
	}
	ms, err := r.op.metrics(ctx)
	if err != nil {
		return memoryReading{}, err
	}
	rss, err := r.op.rssBytes()
	if err != nil {
		return memoryReading{}, err
	}
	return memoryReading{
		heap:       ms.sum("go_memstats_heap_alloc_bytes", nil),
		heapLive:   ms.sum("go_gc_heap_live_bytes", nil),
		stack:      ms.sum("go_memstats_stack_inuse_bytes", nil),
		rss:        rss,
		byCategory: byCategory,
	}, nil
}

func mib(b float64) string { return fmt.Sprintf("%.1fMiB", b/(1<<20)) }
func kib(b float64) string { return fmt.Sprintf("%.1fKiB", b/(1<<10)) }
