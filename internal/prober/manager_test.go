package prober

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

var testConfig = Config{Test: []string{"CMD", "check"}, Interval: 10 * time.Second, Timeout: 5 * time.Second, Retries: 3}

func testSpec() Spec { return Spec{Config: testConfig, Target: testTarget} }

// updateView is what the manager tests check of an Update.
type updateView struct {
	Previous, Status v1alpha1.HealthStatus
	Streak           int
	LogLen           int
	Changed          bool
	IsResult         bool
	ContainerID      string
}

func viewOf(u Update) updateView {
	return updateView{
		Previous: u.Previous, Status: u.Health.Status, Streak: u.Health.FailingStreak, LogLen: len(u.Health.Log),
		Changed: u.StatusChanged, IsResult: u.Result != nil, ContainerID: u.Target.ContainerID,
	}
}

func TestEnsureIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, rec := newTestManager(t, exits(0, ""))
		spec := testSpec()
		m.Ensure(testKey, spec, nil)
		time.Sleep(5 * time.Second)
		same := testSpec()
		same.Config.Test = slices.Clone(same.Config.Test)
		same.Target.StartedAt = same.Target.StartedAt.In(time.FixedZone("elsewhere", 7200))
		m.Ensure(testKey, same, &Health{Status: v1alpha1.Unhealthy}) // seed ignored: monitor exists
		m.Ensure(testKey, same, nil)
		time.Sleep(6 * time.Second)
		synctest.Wait()

		if diff := cmp.Diff([]Key{testKey}, m.Keys()); diff != "" {
			t.Errorf("Keys (-want +got):\n%s", diff)
		}
		got := rec.of(testKey)
		if len(got) != 2 || got[0].Result != nil || got[1].Result == nil {
			t.Fatalf("updates %+v, want the initial one and one result", got)
		}
		if start := since0(got[1].Result.Start)[0]; start != 10*time.Second {
			t.Errorf("first probe at %v, want 10s: a repeated Ensure must not re-arm the wait", start)
		}
	})
}

// TestEnsureReplace: a new container (restart) or a new config resets to starting with
// streak 0 and keeps the log; a new StartedAt for the same container keeps everything.
func TestEnsureReplace(t *testing.T) {
	tests := map[string]struct {
		codes   []int // exit codes of the probes before the change
		retries int   // 0: testConfig's
		change  func(*Spec)
		want    updateView
		// wantFirst is when the replacement's first probe starts (it changes at 35s).
		wantFirst time.Duration
	}{
		"restart (new container ID) of a healthy target": {
			codes:     []int{0, 0, 0},
			change:    func(s *Spec) { s.Target.ContainerID = "containerd://c2" },
			want:      updateView{Previous: v1alpha1.Healthy, Status: v1alpha1.Starting, LogLen: 3, Changed: true, ContainerID: "containerd://c2"},
			wantFirst: 45 * time.Second,
		},
		"restart of an unhealthy target clears the streak": {
			codes:     []int{1, 1, 1},
			change:    func(s *Spec) { s.Target.ContainerID = "containerd://c2" },
			want:      updateView{Previous: v1alpha1.Unhealthy, Status: v1alpha1.Starting, LogLen: 3, Changed: true, ContainerID: "containerd://c2"},
			wantFirst: 45 * time.Second,
		},
		"restart while starting: no change to report": {
			codes:     []int{1},
			retries:   5,
			change:    func(s *Spec) { s.Target.ContainerID = "containerd://c2" },
			want:      updateView{Previous: v1alpha1.Starting, Status: v1alpha1.Starting, LogLen: 3, ContainerID: "containerd://c2"},
			wantFirst: 45 * time.Second,
		},
		"new config": {
			codes:     []int{0},
			change:    func(s *Spec) { s.Config.Interval = 20 * time.Second },
			want:      updateView{Previous: v1alpha1.Healthy, Status: v1alpha1.Starting, LogLen: 3, Changed: true, ContainerID: "containerd://c1"},
			wantFirst: 55 * time.Second,
		},
		"new StartedAt, same container: health kept": {
			codes:     []int{1, 1, 1},
			change:    func(s *Spec) { s.Target.StartedAt = s.Target.StartedAt.Add(time.Second) },
			want:      updateView{Previous: v1alpha1.Unhealthy, Status: v1alpha1.Unhealthy, Streak: 3, LogLen: 3, ContainerID: "containerd://c1"},
			wantFirst: 45 * time.Second,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m, rec := newTestManager(t, script(tc.codes...))
				spec := testSpec()
				if tc.retries != 0 {
					spec.Config.Retries = tc.retries
				}
				m.Ensure(testKey, spec, nil)
				time.Sleep(35 * time.Second) // probes at 10, 20, 30
				synctest.Wait()
				changed := spec
				tc.change(&changed)
				m.Ensure(testKey, changed, nil)
				synctest.Wait()

				us := rec.of(testKey)
				if diff := cmp.Diff(tc.want, viewOf(us[len(us)-1])); diff != "" {
					t.Errorf("update on replacement (-want +got):\n%s", diff)
				}
				h, tg, ok := m.Snapshot(testKey)
				if !ok || h.Status != tc.want.Status || h.FailingStreak != tc.want.Streak || tg.ContainerID != tc.want.ContainerID {
					t.Errorf("Snapshot = %v %q %d %q", ok, h.Status, h.FailingStreak, tg.ContainerID)
				}
				time.Sleep(25 * time.Second)
				rs := rec.results(testKey)
				if first := since0(rs[3].Start)[0]; first != tc.wantFirst {
					t.Errorf("replacement's first probe at %v, want %v (a full wait, no probe at once)", first, tc.wantFirst)
				}
			})
		})
	}
}

// TestEnsureReplaceMidProbe: replacing a monitor cancels its probe in flight, drops its
// result, and the replacement probes only once that exec has returned.
func TestEnsureReplaceMidProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c concurrency
		var cancelled atomic.Int64
		m, rec := newTestManager(t, c.wrap(execFunc(func(ctx context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			started()
			select {
			case <-ctx.Done():
				time.Sleep(2 * time.Second) // slow to die
				cancelled.Add(1)
				return exitProbeError, ctx.Err()
			case <-time.After(3 * time.Second):
				return 0, nil
			}
		})))
		cfg := testConfig
		cfg.Interval = time.Second
		m.Ensure(testKey, Spec{Config: cfg, Target: testTarget}, nil)
		time.Sleep(2 * time.Second) // first probe in flight since 1s
		restarted := Spec{Config: cfg, Target: testTarget}
		restarted.Target.ContainerID = "containerd://c2"
		m.Ensure(testKey, restarted, nil)
		time.Sleep(10 * time.Second)
		m.Stop(testKey)

		if cancelled.Load() != 1 {
			t.Errorf("%d execs cancelled, want 1", cancelled.Load())
		}
		for _, u := range rec.of(testKey) {
			if u.Result != nil && u.Target.ContainerID == "containerd://c1" {
				t.Errorf("result of the replaced monitor delivered: %+v", u.Result)
			}
		}
		rs := rec.results(testKey)
		if len(rs) == 0 || since0(rs[0].Start)[0] != 5*time.Second {
			t.Errorf("results %v; want the first at 5s (old exec gone at 4s, then a full interval)", rs)
		}
		if _, _, maxPod, _ := c.stats(); maxPod != 1 {
			t.Errorf("max %d execs in flight for one target, want 1", maxPod)
		}
	})
}

// TestSeedResume: a seeded monitor resumes its previous state (operator restart, same
// container) without flapping to starting, and without reporting a change.
func TestSeedResume(t *testing.T) {
	old := Result{Start: bubbleEpoch.Add(-time.Minute), End: bubbleEpoch.Add(-time.Minute), ExitCode: 0, Output: "ok"}
	tests := map[string]struct {
		seed      Health
		codes     []int
		cfg       Config
		wantFirst updateView
		wantNext  updateView
	}{
		"healthy resumes healthy, interval (not start interval) inside the start period": {
			seed:      Health{Status: v1alpha1.Healthy, Log: []Result{old}},
			codes:     []int{1},
			cfg:       Config{Test: []string{"CMD", "x"}, Interval: 10 * time.Second, StartPeriod: time.Hour, StartInterval: time.Second},
			wantFirst: updateView{Status: v1alpha1.Healthy, LogLen: 1, ContainerID: "containerd://c1"},
			wantNext:  updateView{Previous: v1alpha1.Healthy, Status: v1alpha1.Healthy, Streak: 1, LogLen: 2, IsResult: true, ContainerID: "containerd://c1"},
		},
		"unhealthy resumes with its streak": {
			seed:      Health{Status: v1alpha1.Unhealthy, FailingStreak: 4, Log: []Result{old}},
			codes:     []int{1},
			cfg:       Config{Test: []string{"CMD", "x"}, Interval: 10 * time.Second},
			wantFirst: updateView{Status: v1alpha1.Unhealthy, Streak: 4, LogLen: 1, ContainerID: "containerd://c1"},
			wantNext:  updateView{Previous: v1alpha1.Unhealthy, Status: v1alpha1.Unhealthy, Streak: 5, LogLen: 2, IsResult: true, ContainerID: "containerd://c1"},
		},
		"unhealthy recovers with one success": {
			seed:      Health{Status: v1alpha1.Unhealthy, FailingStreak: 3},
			codes:     []int{0},
			cfg:       Config{Test: []string{"CMD", "x"}, Interval: 10 * time.Second},
			wantFirst: updateView{Status: v1alpha1.Unhealthy, Streak: 3, ContainerID: "containerd://c1"},
			wantNext:  updateView{Previous: v1alpha1.Unhealthy, Status: v1alpha1.Healthy, LogLen: 1, Changed: true, IsResult: true, ContainerID: "containerd://c1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m, rec := newTestManager(t, script(tc.codes...))
				target := testTarget
				target.StartedAt = bubbleEpoch.Add(-time.Minute)
				seed := tc.seed
				m.Ensure(testKey, Spec{Config: tc.cfg, Target: target}, &seed)
				seed.Log = append(seed.Log, Result{Output: "caller keeps its seed"})
				h, _, _ := m.Snapshot(testKey)
				if h.Status != tc.seed.Status {
					t.Errorf("Snapshot right after Ensure: %q, want %q", h.Status, tc.seed.Status)
				}
				time.Sleep(10500 * time.Millisecond)
				var got []updateView
				for _, u := range rec.of(testKey) {
					got = append(got, viewOf(u))
				}
				if diff := cmp.Diff([]updateView{tc.wantFirst, tc.wantNext}, got); diff != "" {
					t.Errorf("updates (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inExec, returned atomic.Bool
		m, rec := newTestManager(t, execFunc(func(ctx context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			started()
			inExec.Store(true)
			<-ctx.Done()
			time.Sleep(time.Second)
			returned.Store(true)
			return exitProbeError, ctx.Err()
		}))
		m.Stop(testKey) // nothing to stop
		m.Ensure(testKey, testSpec(), nil)
		time.Sleep(12 * time.Second)
		if !inExec.Load() {
			t.Fatal("no probe in flight")
		}
		n := len(rec.all())
		m.Stop(testKey)
		if !returned.Load() {
			t.Error("Stop returned before the in-flight exec did")
		}
		m.Stop(testKey)
		time.Sleep(time.Minute)
		if got := len(rec.all()); got != n {
			t.Errorf("%d updates after Stop", got-n)
		}
		if keys := m.Keys(); len(keys) != 0 {
			t.Errorf("Keys after Stop: %v", keys)
		}
		if _, _, ok := m.Snapshot(testKey); ok {
			t.Error("Snapshot after Stop found a monitor")
		}
	})
}

// TestStopThenEnsure: a monitor started again after Stop starts fresh (or from its seed).
func TestStopThenEnsure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, rec := newTestManager(t, exits(0, ""))
		m.Ensure(testKey, testSpec(), nil)
		time.Sleep(15 * time.Second)
		m.Stop(testKey)
		m.Ensure(testKey, testSpec(), nil)
		synctest.Wait()
		if diff := cmp.Diff(updateView{Status: v1alpha1.Starting, ContainerID: "containerd://c1"}, viewOf(rec.last(t, testKey))); diff != "" {
			t.Errorf("update of the new monitor (-want +got):\n%s", diff)
		}
	})
}

// TestConcurrentStopAndEnsure: Stop and Ensure of one Key racing never give the Key two
// execs in flight (the new monitor waits for the stopping one).
func TestConcurrentStopAndEnsure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c concurrency
		m, _ := newTestManager(t, c.wrap(execFunc(func(ctx context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			started()
			<-ctx.Done()
			time.Sleep(3 * time.Second)
			return exitProbeError, ctx.Err()
		})))
		cfg := testConfig
		cfg.Interval, cfg.Timeout = time.Second, time.Minute
		spec := Spec{Config: cfg, Target: testTarget}
		m.Ensure(testKey, spec, nil)
		time.Sleep(2 * time.Second)
		var wg sync.WaitGroup
		wg.Go(func() { m.Stop(testKey) })
		synctest.Wait() // Stop is waiting for the dying exec
		m.Ensure(testKey, spec, nil)
		time.Sleep(2 * time.Second)
		wg.Wait()
		time.Sleep(10 * time.Second)
		if _, _, maxPod, calls := c.stats(); maxPod != 1 || calls != 2 {
			t.Errorf("max %d in flight for the target (want 1), %d execs (want 2)", maxPod, calls)
		}
	})
}

func TestStopOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestManager(t, hangs(""))
		var want []Key
		for _, owner := range []string{"a", "b"} {
			for i := range 3 {
				key := Key{Namespace: "ns", Owner: owner, Pod: fmt.Sprintf("p%d", i)}
				spec := testSpec()
				spec.Target.Pod = key.Pod
				m.Ensure(key, spec, nil)
				if owner == "b" {
					want = append(want, key)
				}
			}
		}
		other := Key{Namespace: "other", Owner: "a", Pod: "p0"}
		m.Ensure(other, testSpec(), nil)
		want = append(want, other)
		time.Sleep(12 * time.Second) // all mid-probe
		m.StopOwner("ns", "a")
		m.StopOwner("ns", "a")
		less := func(a, b Key) bool { return fmt.Sprint(a) < fmt.Sprint(b) }
		if diff := cmp.Diff(want, m.Keys(), cmpopts.SortSlices(less)); diff != "" {
			t.Errorf("Keys after StopOwner (-want +got):\n%s", diff)
		}
	})
}

func TestEnsureDisabledStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, rec := newTestManager(t, exits(0, ""))
		m.Ensure(testKey, testSpec(), nil)
		disabled := testSpec()
		disabled.Config.Test = []string{"NONE"}
		m.Ensure(testKey, disabled, nil)
		m.Ensure(Key{Namespace: "ns", Owner: "hc", Pod: "other"}, disabled, nil)
		time.Sleep(time.Minute)
		if keys := m.Keys(); len(keys) != 0 {
			t.Errorf("Keys = %v, want none: NONE runs no monitor", keys)
		}
		if n := len(rec.results(testKey)); n != 0 {
			t.Errorf("%d probes ran", n)
		}
	})
}

// TestStart: the Runnable blocks until its context is done, then stops every monitor
// (cancelling probes in flight) and waits; no monitor starts afterwards.
func TestStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running atomic.Int64
		m, _ := newTestManager(t, execFunc(func(ctx context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			running.Add(1)
			defer running.Add(-1)
			started()
			<-ctx.Done()
			return exitProbeError, ctx.Err()
		}))
		for i := range 10 {
			spec := testSpec()
			spec.Target.Pod = fmt.Sprint(i)
			m.Ensure(Key{Namespace: "ns", Owner: "hc", Pod: spec.Target.Pod}, spec, nil)
		}
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- m.Start(ctx) }()
		time.Sleep(12 * time.Second)
		synctest.Wait()
		select {
		case err := <-errc:
			t.Fatalf("Start returned early: %v", err)
		default:
		}
		if running.Load() != 10 {
			t.Fatalf("%d probes in flight, want 10", running.Load())
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("Start: %v", err)
		}
		if running.Load() != 0 {
			t.Errorf("%d execs still running after Start returned", running.Load())
		}
		m.Ensure(testKey, testSpec(), nil)
		if keys := m.Keys(); len(keys) != 0 {
			t.Errorf("monitors after shutdown: %v", keys)
		}
		if !m.NeedLeaderElection() {
			t.Error("NeedLeaderElection = false; only the leader should probe")
		}
	})
}

// TestSnapshotAndUpdatesAreCopies: neither a Sink changing its Update nor a caller changing
// a Snapshot changes the monitor.
func TestSnapshotAndUpdatesAreCopies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newTestManager(t, exits(0, "original"), func(o *Options) {
			o.Sink = func(u Update) {
				for i := range u.Health.Log {
					u.Health.Log[i].Output = "shortened by the sink"
				}
			}
		})
		m.Ensure(testKey, testSpec(), nil)
		time.Sleep(25 * time.Second)
		h, _, _ := m.Snapshot(testKey)
		h.Log[0].Output = "changed by the caller"
		h2, _, _ := m.Snapshot(testKey)
		for _, r := range h2.Log {
			if r.Output != "original" {
				t.Fatalf("log entry output %q, want original", r.Output)
			}
		}
	})
}

// TestUpdatesInOrderPerKey: through replacements, a Key's Updates come one at a time and in
// time order, the initial one of each monitor after the last one of its predecessor.
func TestUpdatesInOrderPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inSink atomic.Int64
		var overlap atomic.Bool
		var mu sync.Mutex
		var ids []string
		m, _ := newTestManager(t, takes(500*time.Millisecond, 0), func(o *Options) {
			o.Sink = func(u Update) {
				if inSink.Add(1) > 1 {
					overlap.Store(true)
				}
				time.Sleep(100 * time.Millisecond) // a slow sink widens any race
				mu.Lock()
				ids = append(ids, u.Target.ContainerID)
				mu.Unlock()
				inSink.Add(-1)
			}
		})
		cfg := testConfig
		cfg.Interval = time.Second
		for i := range 20 {
			spec := Spec{Config: cfg, Target: testTarget}
			spec.Target.ContainerID = fmt.Sprint(i / 2) // every other Ensure restarts
			m.Ensure(testKey, spec, nil)
			time.Sleep(time.Duration(i%3+1) * 700 * time.Millisecond)
		}
		m.Stop(testKey)
		if overlap.Load() {
			t.Error("the Sink ran twice at once for one Key")
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.IsSorted(ids) {
			t.Errorf("container IDs out of order: %v", ids)
		}
	})
}

// TestManyMonitorsNoLeak starts 1,000 monitors, some mid-probe, some waiting for a slot,
// some idle, stops them all, and checks the goroutine count is back to its baseline.
func TestManyMonitorsNoLeak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		baseline := proberGoroutines()
		var c concurrency
		m, _ := newTestManager(t, c.wrap(execFunc(func(ctx context.Context, tg Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			started()
			var n int
			_, _ = fmt.Sscan(tg.Pod, &n)
			if n%3 == 0 {
				return 0, nil
			}
			<-ctx.Done() // hangs until stopped
			return exitProbeError, ctx.Err()
		})), func(o *Options) { o.MaxInFlight = 300 })
		cfg := testConfig
		cfg.Timeout = time.Hour
		const monitors = 1000
		for i := range monitors {
			spec := Spec{Config: cfg, Target: testTarget}
			spec.Target.Pod = fmt.Sprint(i)
			if i%2 == 0 {
				spec.Config.Interval = time.Hour // idle when stopped
			}
			m.Ensure(Key{Namespace: "ns", Owner: fmt.Sprint(i % 7), Pod: spec.Target.Pod}, spec, nil)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		now, maxAll, _, _ := c.stats()
		if now != 300 || maxAll != 300 {
			t.Fatalf("%d execs in flight (max %d), want the cap, 300, with more queued", now, maxAll)
		}
		if g := proberGoroutines(); g < baseline+monitors+300 {
			t.Fatalf("%d goroutines in prober code, want at least one per monitor and one per exec above %d", g, baseline)
		}
		for owner := range 7 {
			m.StopOwner("ns", fmt.Sprint(owner))
		}
		synctest.Wait()
		if g := proberGoroutines(); g != baseline {
			t.Errorf("%d goroutines in prober code after stopping every monitor, want the baseline %d", g, baseline)
		}
		if now, _, _, _ := c.stats(); now != 0 {
			t.Errorf("%d execs still in flight", now)
		}
	})
}

// proberGoroutines counts the goroutines running a monitor or an exec of this package.
// (runtime.NumGoroutine counts the whole process, where goroutines of other tests and of
// the runtime come and go.)
func proberGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "internal/prober.(*monitor).run") || strings.Contains(g, "internal/prober.(*prober).probe.func") {
			count++
		}
	}
	return count
}
