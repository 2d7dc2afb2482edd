package prober

import (
	"context"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// takes is an Execer that starts at once, runs for d and exits with code.
func takes(d time.Duration, code int) Execer {
	return execFunc(func(_ context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
		started()
		time.Sleep(d)
		return code, nil
	})
}

// TestMonitorSchedule checks when probes start, on synctest's clock: no probe at t=0, the
// wait counted from the end of the previous probe, the start interval while starting
// inside the start period, the timeout.
func TestMonitorSchedule(t *testing.T) {
	tests := map[string]struct {
		execer     Execer
		cfg        Config
		startedAgo time.Duration // container start before the monitor's start
		horizon    time.Duration
		wantStarts []time.Duration
		wantFinal  after
	}{
		"first probe after one interval, then end-to-start": {
			execer:     takes(2*time.Second, 0),
			cfg:        Config{Interval: 10 * time.Second},
			horizon:    50 * time.Second,
			wantStarts: []time.Duration{10 * time.Second, 22 * time.Second, 34 * time.Second, 46 * time.Second},
			wantFinal:  after{v1alpha1.Healthy, 0},
		},
		"start interval while starting inside the start period, then interval": {
			execer:     script(1),
			cfg:        Config{Interval: 10 * time.Second, StartPeriod: 20 * time.Second, StartInterval: 3 * time.Second, Retries: 3},
			horizon:    45 * time.Second,
			wantStarts: []time.Duration{3, 6, 9, 12, 15, 18, 21, 31, 41},
			wantFinal:  after{v1alpha1.Unhealthy, 3},
		},
		"fails twice then succeeds: healthy within seconds, then interval apart (moby)": {
			execer:     script(1, 1, 0),
			cfg:        Config{Interval: 30 * time.Second, StartPeriod: 30 * time.Second, StartInterval: time.Second},
			horizon:    70 * time.Second,
			wantStarts: []time.Duration{1, 2, 3, 33, 63},
			wantFinal:  after{v1alpha1.Healthy, 0},
		},
		"start period 0: start interval ignored": {
			execer:     script(1),
			cfg:        Config{Interval: 10 * time.Second, StartInterval: time.Second, Retries: 2},
			horizon:    35 * time.Second,
			wantStarts: []time.Duration{10, 20, 30},
			wantFinal:  after{v1alpha1.Unhealthy, 3},
		},
		"start period counted from the container's start, not the monitor's": {
			execer:     script(1),
			cfg:        Config{Interval: 30 * time.Second, StartPeriod: 60 * time.Second, StartInterval: 5 * time.Second},
			startedAgo: 50 * time.Second,
			horizon:    75 * time.Second,
			wantStarts: []time.Duration{5, 10, 40, 70},
			wantFinal:  after{v1alpha1.Unhealthy, 3}, // the probe at 10s is at the period's end: counted
		},
		"timeouts: waits counted from the end of the timed-out probe": {
			execer:     hangs(""),
			cfg:        Config{Interval: 10 * time.Second, Timeout: 2 * time.Second, Retries: 2},
			horizon:    40 * time.Second,
			wantStarts: []time.Duration{10, 22, 34},
			wantFinal:  after{v1alpha1.Unhealthy, 3},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m, rec := newTestManager(t, tc.execer)
				cfg := tc.cfg
				cfg.Test = []string{"CMD", "check"}
				target := testTarget
				target.StartedAt = time.Now().Add(-tc.startedAgo)
				m.Ensure(testKey, Spec{Config: cfg, Target: target}, nil)
				time.Sleep(tc.horizon)
				synctest.Wait()

				var starts []time.Duration
				for _, r := range rec.results(testKey) {
					starts = append(starts, r.Start.Sub(bubbleEpoch))
				}
				want := tc.wantStarts
				if len(want) > 0 && want[0] < time.Millisecond {
					want = seconds(want...)
				}
				if diff := cmp.Diff(want, starts); diff != "" {
					t.Errorf("probe starts (-want +got):\n%s", diff)
				}
				h, _, _ := m.Snapshot(testKey)
				if diff := cmp.Diff(tc.wantFinal, after{h.Status, h.FailingStreak}); diff != "" {
					t.Errorf("final state (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// seconds turns bare numbers into seconds, for readable tables.
func seconds(ns ...time.Duration) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = n * time.Second
	}
	return out
}

// TestMonitorCatStatus ports moby's `cat /status` scenario: healthy; file removed:
// unhealthy with a streak >= retries; file back: healthy, streak 0, output "OK\n".
func TestMonitorCatStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var present atomic.Bool
		present.Store(true)
		m, rec := newTestManager(t, execFunc(func(_ context.Context, _ Target, cmd []string, stdout, stderr io.Writer, started func()) (int, error) {
			started()
			if present.Load() {
				_, _ = io.WriteString(stdout, "OK\n")
				return 0, nil
			}
			_, _ = io.WriteString(stderr, "cat: can't open '/status': No such file or directory\n")
			return 1, nil
		}))
		cfg := Config{Test: []string{"CMD", "cat", "/status"}, Interval: time.Second, Retries: 3}
		m.Ensure(testKey, Spec{Config: cfg, Target: testTarget}, nil)

		time.Sleep(1500 * time.Millisecond)
		if h, _, _ := m.Snapshot(testKey); h.Status != v1alpha1.Healthy {
			t.Fatalf("status %q, want healthy", h.Status)
		}
		present.Store(false)
		time.Sleep(5 * time.Second)
		h, _, _ := m.Snapshot(testKey)
		if h.Status != v1alpha1.Unhealthy || h.FailingStreak < 3 {
			t.Fatalf("status %q streak %d, want unhealthy with streak >= 3", h.Status, h.FailingStreak)
		}
		changes := 0
		for _, u := range rec.of(testKey) {
			if u.StatusChanged && u.Health.Status == v1alpha1.Unhealthy {
				changes++
			}
		}
		if changes != 1 {
			t.Errorf("%d changes to unhealthy reported, want 1 (Docker's event fires on changes only)", changes)
		}
		present.Store(true)
		time.Sleep(time.Second)
		h, _, _ = m.Snapshot(testKey)
		last := h.Log[len(h.Log)-1]
		if h.Status != v1alpha1.Healthy || h.FailingStreak != 0 || last.ExitCode != 0 || last.Output != "OK\n" {
			t.Errorf("got %q streak %d last %+v; want healthy, 0, exit 0 with OK", h.Status, h.FailingStreak, last)
		}
		if len(h.Log) != maxLogEntries {
			t.Errorf("log has %d entries, want %d", len(h.Log), maxLogEntries)
		}
	})
}

// TestMonitorUpdates checks the Updates of a monitor's life: the initial starting (no
// change reported), then one per probe with its result, StatusChanged only on changes.
func TestMonitorUpdates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, rec := newTestManager(t, script(0, 0, 1))
		cfg := Config{Test: []string{"CMD", "x"}, Interval: time.Second, Retries: 1}
		m.Ensure(testKey, Spec{Config: cfg, Target: testTarget}, nil)
		time.Sleep(3500 * time.Millisecond)
		type view struct {
			Previous, Status v1alpha1.HealthStatus
			Changed          bool
			Exit             *int
			LogLen           int
		}
		var got []view
		for _, u := range rec.of(testKey) {
			v := view{Previous: u.Previous, Status: u.Health.Status, Changed: u.StatusChanged, LogLen: len(u.Health.Log)}
			if u.Result != nil {
				v.Exit = &u.Result.ExitCode
				if diff := cmp.Diff(*u.Result, u.Health.Log[len(u.Health.Log)-1]); diff != "" {
					t.Errorf("Result is not the newest log entry (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(testTarget, u.Target); diff != "" {
				t.Errorf("Target (-want +got):\n%s", diff)
			}
			got = append(got, v)
		}
		zero, one := 0, 1
		want := []view{
			{Previous: "", Status: v1alpha1.Starting},
			{Previous: v1alpha1.Starting, Status: v1alpha1.Healthy, Changed: true, Exit: &zero, LogLen: 1},
			{Previous: v1alpha1.Healthy, Status: v1alpha1.Healthy, Exit: &zero, LogLen: 2},
			{Previous: v1alpha1.Healthy, Status: v1alpha1.Unhealthy, Changed: true, Exit: &one, LogLen: 3},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("updates (-want +got):\n%s", diff)
		}
	})
}

// TestMonitorWaitsForStraggler: an exec that ignores cancellation is reported as timed out
// after the grace period, and the next probe of the target waits until it has returned.
func TestMonitorWaitsForStraggler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c concurrency
		var calls atomic.Int64
		m, rec := newTestManager(t, c.wrap(execFunc(func(_ context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			started()
			if calls.Add(1) == 1 {
				time.Sleep(time.Minute) // deaf to cancellation
			}
			return 0, nil
		})))
		cfg := Config{Test: []string{"CMD", "x"}, Interval: time.Second, Timeout: time.Second}
		m.Ensure(testKey, Spec{Config: cfg, Target: testTarget}, nil)
		time.Sleep(2 * time.Minute)
		rs := rec.results(testKey)
		if len(rs) < 2 {
			t.Fatalf("%d results, want at least 2", len(rs))
		}
		first := outcomeOf(rs[0])
		wantFirst := outcome{Start: time.Second, End: 2*time.Second + cancelGrace, ExitCode: -1, Output: "Health check exceeded timeout (1s)"}
		if diff := cmp.Diff(wantFirst, first); diff != "" {
			t.Errorf("first result (-want +got):\n%s", diff)
		}
		if second := since0(rs[1].Start)[0]; second < 61*time.Second {
			t.Errorf("second probe started at %v, before the straggler returned at 61s", second)
		}
		if _, _, maxPod, _ := c.stats(); maxPod != 1 {
			t.Errorf("%d execs in flight for one target, want 1", maxPod)
		}
	})
}

// TestMonitorNoCommand: a test that cannot run (built by hand, the CRD refuses it) fails
// every probe with Docker's text and never execs.
func TestMonitorNoCommand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c concurrency
		m, rec := newTestManager(t, c.wrap(exits(0, "")))
		m.Ensure(testKey, Spec{Config: Config{Test: []string{"CMD"}, Interval: time.Second, Retries: 1}, Target: testTarget}, nil)
		time.Sleep(1500 * time.Millisecond)
		rs := rec.results(testKey)
		want := []outcome{{Start: time.Second, End: time.Second, ExitCode: -1, Output: "healthcheck for container containerd://c1 has no command"}}
		var got []outcome
		for _, r := range rs {
			got = append(got, outcomeOf(r))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		if _, _, _, calls := c.stats(); calls != 0 {
			t.Errorf("%d execs, want none", calls)
		}
	})
}

// TestMonitorInjectedClock drives a monitor with k8s.io/utils' FakeClock instead of
// synctest: the Manager uses the injected clock for every wait and timestamp.
func TestMonitorInjectedClock(t *testing.T) {
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	fc := clocktesting.NewFakeClock(start)
	results := make(chan Result, 10)
	m, _ := newTestManager(t, exits(0, "ok"), func(o *Options) {
		o.Clock = fc
		o.Sink = func(u Update) {
			if u.Result != nil {
				results <- *u.Result
			}
		}
	})
	target := testTarget
	target.StartedAt = start
	m.Ensure(testKey, Spec{Config: Config{Test: []string{"CMD", "x"}, Interval: 10 * time.Second}, Target: target}, nil)

	for want := range 3 {
		waitForWaiters(t, fc)
		fc.Step(9 * time.Second)
		select {
		case r := <-results:
			t.Fatalf("probe %d ran early, at %v", want, r.Start)
		default:
		}
		fc.Step(time.Second)
		r := <-results
		wantStart := start.Add(time.Duration(want+1) * 10 * time.Second)
		if diff := cmp.Diff(Result{Start: wantStart, End: wantStart, ExitCode: 0, Output: "ok"}, r, cmpopts.EquateApproxTime(0)); diff != "" {
			t.Errorf("probe %d (-want +got):\n%s", want, diff)
		}
	}
}

// waitForWaiters yields until the monitor has armed its timer on the fake clock (the
// wall-clock deadline only bounds a broken test; nothing is timed by it).
func waitForWaiters(t *testing.T, fc *clocktesting.FakeClock) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !fc.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("the monitor never armed its timer")
		}
		runtime.Gosched()
	}
}

var _ clock.WithTicker = (*clocktesting.FakeClock)(nil)
