package prober

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// idleTargets is the scale of the memory budget: 10,000 targets.
const idleTargets = 10000

// maxIdleHeapPerTarget is the budget: heap per idle monitor at 10,000 targets.
const maxIdleHeapPerTarget = 16 << 10

// idleFootprint starts n idle monitors (each with a full log of short outputs, as after
// a few probes) and returns the heap and stack they hold, per monitor.
func idleFootprint(tb testing.TB, n int) (heapPer, stackPer float64) {
	tb.Helper()
	m := NewManager(Options{
		Execer:     exits(0, ""),
		Clock:      clock.RealClock{},
		Registerer: prometheus.NewRegistry(),
	})
	defer m.shutdown()
	cfg := Config{Test: []string{"CMD-SHELL", "curl -fsS http://localhost:8080/healthz || exit 1"}, Interval: time.Hour}
	var log []Result
	for i := range maxLogEntries {
		now := time.Now()
		log = append(log, Result{Start: now, End: now, ExitCode: i % 2, Output: "ok\n"})
	}
	before := memStats()
	for i := range n {
		pod := fmt.Sprintf("web-%d", i)
		m.Ensure(Key{Namespace: "default", Owner: "web", Pod: pod}, Spec{
			Config: cfg,
			Target: Target{Namespace: "default", Pod: pod, Container: "app", ContainerID: "containerd://" + pod, StartedAt: time.Now()},
		}, &Health{Status: v1alpha1.Healthy, Log: log})
	}
	// Wait until every monitor is idle on its timer.
	for range 1000 {
		runtime.Gosched()
		if g := proberGoroutines(); g == n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	after := memStats()
	runtime.KeepAlive(m)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n), float64(after.StackInuse-before.StackInuse) / float64(n)
}

func memStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s
}

// TestIdleMonitorMemory holds the budget: <= 16 KiB of heap per idle target at 10,000
// targets (goroutine stacks are reported beside it; they are not heap).
func TestIdleMonitorMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 10,000 monitors")
	}
	heapPer, stackPer := idleFootprint(t, idleTargets)
	t.Logf("per idle target at %d targets: heap %.0f B, goroutine stack %.0f B", idleTargets, heapPer, stackPer)
	if heapPer > maxIdleHeapPerTarget {
		t.Errorf("heap per idle target %.0f B, budget %d B", heapPer, maxIdleHeapPerTarget)
	}
}

func BenchmarkIdleMonitors(b *testing.B) {
	for b.Loop() {
		heapPer, stackPer := idleFootprint(b, idleTargets)
		b.ReportMetric(heapPer, "heap-B/target")
		b.ReportMetric(stackPer, "stack-B/target")
	}
}
