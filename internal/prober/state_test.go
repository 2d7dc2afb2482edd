package prober

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// epoch is the container's StartedAt in the state tests; times are backdated offsets from it.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type probeAt struct {
	at   time.Duration // probe start, relative to the container's start
	exit int
}

type after struct {
	Status v1alpha1.HealthStatus
	Streak int
}

// TestApply ports moby's TestHealthStates as behaviour: after each result, the status and
// failing streak Docker's handleProbeResult would produce.
func TestApply(t *testing.T) {
	tests := map[string]struct {
		cfg     Config
		initial health
		results []probeAt
		want    []after
	}{
		"retries 1: every failure is unhealthy, one success heals": {
			cfg:     Config{Retries: 1},
			results: []probeAt{{1 * time.Second, 1}, {2 * time.Second, 0}, {3 * time.Second, 1}},
			want:    []after{{v1alpha1.Unhealthy, 1}, {v1alpha1.Healthy, 0}, {v1alpha1.Unhealthy, 1}},
		},
		"retries 3: fail, fail stays starting; third fail is unhealthy; success heals": {
			cfg:     Config{Retries: 3},
			results: []probeAt{{20 * time.Second, 1}, {40 * time.Second, 1}, {60 * time.Second, 1}, {80 * time.Second, 0}},
			want:    []after{{v1alpha1.Starting, 1}, {v1alpha1.Starting, 2}, {v1alpha1.Unhealthy, 3}, {v1alpha1.Healthy, 0}},
		},
		"retries <= 0 means 3": {
			cfg:     Config{Retries: -2},
			results: []probeAt{{1 * time.Second, 1}, {2 * time.Second, 1}, {3 * time.Second, 1}},
			want:    []after{{v1alpha1.Starting, 1}, {v1alpha1.Starting, 2}, {v1alpha1.Unhealthy, 3}},
		},
		"start period 30s, retries 2: failure inside it is not counted, outside it is": {
			cfg:     Config{StartPeriod: 30 * time.Second, Retries: 2},
			results: []probeAt{{20 * time.Second, 1}, {50 * time.Second, 1}, {80 * time.Second, 0}},
			want:    []after{{v1alpha1.Starting, 0}, {v1alpha1.Starting, 1}, {v1alpha1.Healthy, 0}},
		},
		"start period protects only until the first success": {
			cfg:     Config{StartPeriod: time.Minute, Retries: 1},
			results: []probeAt{{5 * time.Second, 1}, {10 * time.Second, 0}, {15 * time.Second, 1}},
			want:    []after{{v1alpha1.Starting, 0}, {v1alpha1.Healthy, 0}, {v1alpha1.Unhealthy, 1}},
		},
		"start period boundary: a probe starting exactly at its end counts": {
			cfg:     Config{StartPeriod: 30 * time.Second, Retries: 1},
			results: []probeAt{{30*time.Second - time.Nanosecond, 1}, {30 * time.Second, 1}},
			want:    []after{{v1alpha1.Starting, 0}, {v1alpha1.Unhealthy, 1}},
		},
		"healthy stays healthy below retries": {
			cfg:     Config{Retries: 3},
			initial: health{status: v1alpha1.Healthy},
			results: []probeAt{{time.Second, 1}, {2 * time.Second, 7}, {3 * time.Second, -1}},
			want:    []after{{v1alpha1.Healthy, 1}, {v1alpha1.Healthy, 2}, {v1alpha1.Unhealthy, 3}},
		},
		"start period does not protect a healthy target (resumed or not)": {
			cfg:     Config{StartPeriod: time.Hour, Retries: 1},
			initial: health{status: v1alpha1.Healthy},
			results: []probeAt{{time.Second, 1}},
			want:    []after{{v1alpha1.Unhealthy, 1}},
		},
		"unhealthy keeps counting": {
			cfg:     Config{Retries: 1},
			initial: health{status: v1alpha1.Unhealthy, streak: 4},
			results: []probeAt{{time.Second, 2}},
			want:    []after{{v1alpha1.Unhealthy, 5}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := tc.initial
			if h.status == "" {
				h = newHealth(nil)
			}
			var got []after
			for _, p := range tc.results {
				h.apply(Result{Start: epoch.Add(p.at), End: epoch.Add(p.at), ExitCode: p.exit}, epoch, tc.cfg)
				got = append(got, after{h.status, h.streak})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("status/streak after each result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyKeepsNewestFiveOldestFirst(t *testing.T) {
	h := newHealth(nil)
	var want []Result
	for i := range 8 {
		r := Result{Start: epoch.Add(time.Duration(i) * time.Second), ExitCode: i % 2}
		h.apply(r, epoch, Config{})
		want = append(want, r)
	}
	if diff := cmp.Diff(want[3:], h.log); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if cap(h.log) > 8 {
		t.Errorf("log capacity %d: the log should be shifted in place, not grow", cap(h.log))
	}
}

func TestSnapshotSharesNothing(t *testing.T) {
	h := newHealth(nil)
	h.apply(Result{Output: "a"}, epoch, Config{})
	s := h.snapshot()
	s.Log[0].Output = "changed"
	if h.log[0].Output != "a" {
		t.Errorf("changing a snapshot changed the live log")
	}
}

func TestHealthFrom(t *testing.T) {
	long := make([]Result, 7)
	for i := range long {
		long[i].ExitCode = i
	}
	tests := map[string]struct {
		seed Health
		want Health
	}{
		"healthy resumes as is": {
			seed: Health{Status: v1alpha1.Healthy, Log: long[:1]},
			want: Health{Status: v1alpha1.Healthy, Log: long[:1]},
		},
		"unhealthy keeps its streak": {
			seed: Health{Status: v1alpha1.Unhealthy, FailingStreak: 4},
			want: Health{Status: v1alpha1.Unhealthy, FailingStreak: 4},
		},
		"unknown status resumes as starting": {
			seed: Health{Status: "bogus", FailingStreak: 2},
			want: Health{Status: v1alpha1.Starting},
		},
		"empty status resumes as starting": {
			seed: Health{},
			want: Health{Status: v1alpha1.Starting},
		},
		"too long a log keeps the newest five": {
			seed: Health{Status: v1alpha1.Starting, FailingStreak: 1, Log: long},
			want: Health{Status: v1alpha1.Starting, FailingStreak: 1, Log: long[2:]},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := healthFrom(tc.seed).snapshot()
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("resumed health (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNextWait is Docker's interval selection: Interval once the start period is over;
// StartInterval inside it while starting; never StartInterval with StartPeriod 0.
func TestNextWait(t *testing.T) {
	cfg := Config{Interval: 30 * time.Second, StartPeriod: 60 * time.Second, StartInterval: 2 * time.Second}
	tests := map[string]struct {
		cfg     Config
		elapsed time.Duration
		status  v1alpha1.HealthStatus
		want    time.Duration
	}{
		"at start, starting: start interval": {
			cfg: cfg, elapsed: 0, status: v1alpha1.Starting, want: 2 * time.Second,
		},
		"inside the start period, starting: start interval": {
			cfg: cfg, elapsed: 59 * time.Second, status: v1alpha1.Starting, want: 2 * time.Second,
		},
		"inside the start period, healthy: interval": {
			cfg: cfg, elapsed: 10 * time.Second, status: v1alpha1.Healthy, want: 30 * time.Second,
		},
		"inside the start period, unhealthy: interval": {
			cfg: cfg, elapsed: 10 * time.Second, status: v1alpha1.Unhealthy, want: 30 * time.Second,
		},
		"start period over, still starting: interval": {
			cfg: cfg, elapsed: 60 * time.Second, status: v1alpha1.Starting, want: 30 * time.Second,
		},
		"start period 0: start interval ignored": {
			cfg:     Config{Interval: 30 * time.Second, StartInterval: time.Second},
			elapsed: 0, status: v1alpha1.Starting, want: 30 * time.Second,
		},
		"defaults: 30s interval": {
			cfg: Config{}, elapsed: time.Hour, status: v1alpha1.Starting, want: v1alpha1.DefaultInterval,
		},
		"defaults: 5s start interval": {
			cfg:     Config{StartPeriod: time.Minute},
			elapsed: 0, status: v1alpha1.Starting, want: v1alpha1.DefaultStartInterval,
		},
		"container start in the future (clock skew): inside the start period": {
			cfg: cfg, elapsed: -5 * time.Second, status: v1alpha1.Starting, want: 2 * time.Second,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := nextWait(epoch.Add(tc.elapsed), epoch, tc.status, tc.cfg)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("next wait (-want +got):\n%s", diff)
			}
		})
	}
}
