package bench

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

func TestLateness(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(t0.Add(d)) }
	entry := func(start, end time.Duration) v1alpha1.HealthLogEntry {
		return v1alpha1.HealthLogEntry{Start: at(start), End: at(end)}
	}
	hc := func(entries ...v1alpha1.HealthLogEntry) []v1alpha1.HealthCheck {
		return []v1alpha1.HealthCheck{{
			ObjectMeta: metav1.ObjectMeta{Name: "hc"},
			Status:     v1alpha1.HealthCheckStatus{Targets: []v1alpha1.TargetStatus{{Pod: "p", Container: "c", Log: entries}}},
		}}
	}
	const interval = 10 * time.Second
	logs := targetLogs{}
	// Two reads overlapping on one entry, out of order: each result counts once.
	logs.add(hc(entry(0, 100*time.Millisecond), entry(10100*time.Millisecond, 10200*time.Millisecond)))
	logs.add(hc(
		entry(20250*time.Millisecond, 20300*time.Millisecond), // 50ms late
		entry(10100*time.Millisecond, 10200*time.Millisecond), // on time
		entry(30299*time.Millisecond, 30400*time.Millisecond), // 1ms early
	))
	got, early := logs.lateness(interval, t0)
	want := []time.Duration{0, 50 * time.Millisecond, 0}
	if len(got) != len(want) || early != 1 {
		t.Fatalf("lateness = %v (early %d), want %v (early 1)", got, early, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lateness[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	// Pairs whose first result ended before the window are left out.
	if got, _ := logs.lateness(interval, t0.Add(15*time.Second)); len(got) != 1 {
		t.Errorf("lateness since 15s = %v, want the last pair only", got)
	}
}
