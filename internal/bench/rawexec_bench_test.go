package bench

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/dockprobe/dockprobe/internal/devcluster"
)

// BenchmarkRawExec is measure 1 as a Go benchmark: one exec through the API server to the
// simulated node per iteration, GOMAXPROCS×4 in flight, each goroutine on its own pod.
//
//	go test -run '^$' -bench RawExec ./internal/bench
func BenchmarkRawExec(b *testing.B) {
	root, err := devcluster.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := devcluster.FindAssets(root, io.Discard); err != nil {
		b.Skipf("no kube-apiserver and etcd: %v", err)
	}
	ctrl.SetLogger(logr.Discard()) // envtest logs through controller-runtime's global logger
	ctx := context.Background()
	h, err := startHarness(ctx, b.TempDir(), root, logr.Discard())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = h.stop() }()
	const parallelism = 4
	set := podSet{namespace: "bench-go", prefix: "g", n: 64, labels: map[string]string{"bench": "go"}}
	if err := createPods(ctx, h.kube, set, 0); err != nil {
		b.Fatal(err)
	}
	if err := waitRunning(ctx, h.kube, set.namespace, set.labels, set.n, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	e, err := newRawExecer(h.config)
	if err != nil {
		b.Fatal(err)
	}
	var worker atomic.Int64
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		pod := set.name(int(worker.Add(1)-1) % set.n)
		for pb.Next() {
			if err := e.exec(ctx, set.namespace, pod, "app", []string{"true"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
