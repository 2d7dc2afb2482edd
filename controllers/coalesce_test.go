package controllers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
)

func TestClassifyChange(t *testing.T) {
	base := func() *v1alpha1.HealthCheckStatus {
		return &v1alpha1.HealthCheckStatus{ObservedGeneration: 1, Status: v1alpha1.OverallHealthy, Ready: "1/1", Healthy: 1, Total: 1,
			Targets:    []v1alpha1.TargetStatus{{Pod: "a", Container: "app", ContainerID: "c1", Status: v1alpha1.Healthy, Log: []v1alpha1.HealthLogEntry{entry(1, 0, "ok")}}},
			Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonAllHealthy, LastTransitionTime: metav1.NewTime(t0)}},
		}
	}
	tests := map[string]struct {
		change func(*v1alpha1.HealthCheckStatus)
		want   changeKind
	}{
		"identical": {change: func(*v1alpha1.HealthCheckStatus) {}, want: noChange},
		"only a condition's transition time": {
			change: func(s *v1alpha1.HealthCheckStatus) {
				s.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(time.Hour))
			}, want: noChange,
		},
		"a new log entry": {
			change: func(s *v1alpha1.HealthCheckStatus) {
				s.Targets[0].Log = append(s.Targets[0].Log, entry(2, 0, "ok"))
			},
			want: detailChange,
		},
		"a failing streak": {
			change: func(s *v1alpha1.HealthCheckStatus) {
				s.Targets[0].FailingStreak = 1
				s.Targets[0].Log = append(s.Targets[0].Log, entry(2, 1, "no"))
			},
			want: detailChange,
		},
		"a target's status": {
			change: func(s *v1alpha1.HealthCheckStatus) { s.Targets[0].Status = v1alpha1.Unhealthy }, want: transition,
		},
		"a new container": {
			change: func(s *v1alpha1.HealthCheckStatus) { s.Targets[0].ContainerID = "c2" }, want: transition,
		},
		"a target more": {
			change: func(s *v1alpha1.HealthCheckStatus) {
				s.Targets = append(s.Targets, v1alpha1.TargetStatus{Pod: "b", Container: "app", Status: v1alpha1.Starting})
			},
			want: transition,
		},
		"a target less": {
			change: func(s *v1alpha1.HealthCheckStatus) { s.Targets = nil }, want: transition,
		},
		"the generation": {
			change: func(s *v1alpha1.HealthCheckStatus) { s.ObservedGeneration = 2 }, want: transition,
		},
		"a message": {
			change: func(s *v1alpha1.HealthCheckStatus) { s.Targets[0].Message = "Pod is Pending" }, want: transition,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			written, computed := base(), base()
			tc.change(computed)
			if got := classifyChange(written, computed); got != tc.want {
				t.Errorf("classifyChange() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFlushPolicyDecide(t *testing.T) {
	p := flushPolicy{FlushPeriod: 5 * time.Second, MinWriteInterval: 500 * time.Millisecond}
	type decision struct {
		Write bool
		Wait  time.Duration
	}
	tests := map[string]struct {
		sinceWrite time.Duration // 0: never written
		kind       changeKind
		want       decision
	}{
		"nothing changed: no write, no wait":          {sinceWrite: time.Hour, kind: noChange, want: decision{}},
		"first write goes at once":                    {kind: detailChange, want: decision{Write: true}},
		"transition after the min interval: at once":  {sinceWrite: time.Second, kind: transition, want: decision{Write: true}},
		"transition right after a write: short wait":  {sinceWrite: 200 * time.Millisecond, kind: transition, want: decision{Wait: 300 * time.Millisecond}},
		"log-only change within the flush period":     {sinceWrite: 2 * time.Second, kind: detailChange, want: decision{Wait: 3 * time.Second}},
		"log-only change once the flush period ended": {sinceWrite: 5 * time.Second, kind: detailChange, want: decision{Write: true}},
	}
	now := t0.Add(time.Hour)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var last time.Time
			if tc.sinceWrite > 0 {
				last = now.Add(-tc.sinceWrite)
			}
			w, wait := p.decide(now, last, tc.kind)
			if diff := cmp.Diff(tc.want, decision{w, wait}); diff != "" {
				t.Errorf("decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShouldKick(t *testing.T) {
	now := t0
	tests := map[string]struct {
		urgent bool
		state  kickState
		want   bool
	}{
		"idle, detail":                              {state: kickState{}, want: true},
		"idle, urgent":                              {urgent: true, state: kickState{}, want: true},
		"already kicked":                            {urgent: true, state: kickState{kicked: true}, want: false},
		"detail while a write is deferred":          {state: kickState{deferredUntil: now.Add(4 * time.Second)}, want: false},
		"urgent while a far write is deferred":      {urgent: true, state: kickState{deferredUntil: now.Add(4 * time.Second)}, want: true},
		"urgent while a write is about to be tried": {urgent: true, state: kickState{deferredUntil: now.Add(100 * time.Millisecond)}, want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := shouldKick(now, tc.urgent, tc.state, 500*time.Millisecond); got != tc.want {
				t.Errorf("shouldKick() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStoreCoalescesWakeUps drives the health store as the prober and the reconciler do,
// with a fake clock, and counts the reconciles it asks for.
func TestStoreCoalescesWakeUps(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	owner := types.NamespacedName{Namespace: "ns", Name: "hc"}
	var kicks int
	s := newHealthStore(clk, 500*time.Millisecond, func(n types.NamespacedName) {
		if n != owner {
			t.Errorf("kicked %v, want %v", n, owner)
		}
		kicks++
	})
	key := prober.Key{Namespace: "ns", Owner: "hc", Pod: "a"}
	target := prober.Target{Namespace: "ns", Pod: "a", Container: "app", ContainerID: "c1"}
	update := func(prev, now v1alpha1.HealthStatus, exit int) prober.Update {
		r := prober.Result{Start: clk.Now(), End: clk.Now(), ExitCode: exit, Output: "out"}
		return prober.Update{Key: key, Target: target, Health: prober.Health{Status: now, Log: []prober.Result{r}},
			Previous: prev, StatusChanged: prev != "" && prev != now, Result: &r}
	}

	s.track(owner, "a", "uid-a")
	// A monitor starts: urgent.
	s.sink(prober.Update{Key: key, Target: target, Health: prober.Health{Status: v1alpha1.Starting}})
	if kicks != 1 {
		t.Fatalf("kicks after a monitor start = %d, want 1", kicks)
	}
	// More updates before the reconcile runs: no more wake-ups.
	s.sink(update(v1alpha1.Starting, v1alpha1.Healthy, 0))
	s.sink(update(v1alpha1.Healthy, v1alpha1.Healthy, 0))
	if kicks != 1 {
		t.Fatalf("kicks while a reconcile is pending = %d, want 1", kicks)
	}
	// The reconcile runs, gets the Event of the transition, writes and defers nothing.
	events := s.begin(owner)
	if diff := cmp.Diff([]pendingEvent{{Pod: "a", Container: "app", PodUID: "uid-a", Status: v1alpha1.Healthy, Output: "out"}}, events); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
	// A log-only result: one wake-up; the reconcile then defers the write by the flush period.
	clk.Step(time.Second)
	s.sink(update(v1alpha1.Healthy, v1alpha1.Healthy, 0))
	if kicks != 2 {
		t.Fatalf("kicks after a log-only result = %d, want 2", kicks)
	}
	s.begin(owner)
	s.deferUntil(owner, clk.Now().Add(4*time.Second))
	// Log-only results while deferred: no wake-up, the deferred reconcile takes them.
	for range 10 {
		clk.Step(100 * time.Millisecond)
		s.sink(update(v1alpha1.Healthy, v1alpha1.Healthy, 0))
	}
	if kicks != 2 {
		t.Fatalf("kicks for log-only results while a write is deferred = %d, want 2", kicks)
	}
	// A transition while deferred far enough: wakes the reconciler at once.
	s.sink(update(v1alpha1.Healthy, v1alpha1.Unhealthy, 1))
	if kicks != 3 {
		t.Fatalf("kicks after a transition = %d, want 3", kicks)
	}
	if events := s.begin(owner); len(events) != 1 || events[0].Status != v1alpha1.Unhealthy || events[0].ExitCode != 1 {
		t.Errorf("events = %+v, want one unhealthy", events)
	}
}

func TestStoreMarkStopped(t *testing.T) {
	owner := types.NamespacedName{Namespace: "ns", Name: "hc"}
	s := newHealthStore(clocktesting.NewFakeClock(t0), time.Second, func(types.NamespacedName) {})
	if known, turned := s.markStopped(owner, "a"); known != nil || turned {
		t.Fatalf("markStopped() of an unknown target = %v, %v; want nil, false", known, turned)
	}
	s.track(owner, "a", "uid-a")
	s.sink(prober.Update{Key: prober.Key{Namespace: "ns", Owner: "hc", Pod: "a"}, Target: prober.Target{ContainerID: "c1"},
		Health: prober.Health{Status: v1alpha1.Healthy, Log: []prober.Result{result(1, 0, "ok")}}})
	known, turned := s.markStopped(owner, "a")
	want := &knownHealth{ContainerID: "c1", Health: prober.Health{Status: v1alpha1.Unhealthy, Log: []prober.Result{result(1, 0, "ok")}}}
	if diff := cmp.Diff(want, known); diff != "" || !turned {
		t.Errorf("markStopped() turned = %v, mismatch (-want +got):\n%s", turned, diff)
	}
	if _, turned := s.markStopped(owner, "a"); turned {
		t.Errorf("markStopped() twice turned unhealthy twice")
	}
}
