package controllers

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

func TestJSONStringLenMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "ok\n", `quote " backslash \ tab	`, "<html>&amp;</html>", "\x00\x01\x08\x0c\x1f\x7f",
		"héllo wörld ✓ 🚀", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", strings.Repeat("x", 4096)}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonStringLen(s); got != len(want) {
			t.Errorf("jsonStringLen(%q) = %d, encoding/json writes %d bytes", s, got, len(want))
		}
	}
}

func TestShorten(t *testing.T) {
	tests := map[string]struct {
		s     string
		limit int
		want  string
	}{
		"short enough":                 {s: "hello", limit: 5, want: "hello"},
		"cut, ellipsis included":       {s: "hello world", limit: 8, want: "hello..."},
		"never splits a rune":          {s: "ab✓cd", limit: 6, want: "ab..."},
		"limit below the ellipsis":     {s: "hello", limit: 2, want: "..."},
		"exactly the ellipsis + 1 cut": {s: "abcdef", limit: 4, want: "a..."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := shorten(tc.s, tc.limit)
			if got != tc.want {
				t.Errorf("shorten(%q, %d) = %q, want %q", tc.s, tc.limit, got, tc.want)
			}
			if shortenedJSONLen(tc.s, tc.limit) != jsonStringLen(got) {
				t.Errorf("shortenedJSONLen(%q, %d) = %d, want %d", tc.s, tc.limit, shortenedJSONLen(tc.s, tc.limit), jsonStringLen(got))
			}
		})
	}
}

// bigStatus is a status of n targets, each with logs of `entries` results printing
// `size` bytes that start with the target's name and the entry's index.
func bigStatus(n, entries, size int) *v1alpha1.HealthCheckStatus {
	st := &v1alpha1.HealthCheckStatus{ObservedGeneration: 1, Status: v1alpha1.OverallHealthy, Ready: fmt.Sprintf("%d/%d", n, n), Healthy: int32(n), Total: int32(n)}
	for i := range n {
		ts := v1alpha1.TargetStatus{Pod: fmt.Sprintf("pod-%04d", i), Container: "app", ContainerID: fmt.Sprintf("containerd://%064d", i), Status: v1alpha1.Healthy}
		for j := range entries {
			prefix := fmt.Sprintf("%s entry %d ", ts.Pod, j)
			start := t0.Add(time.Duration(j) * time.Second)
			ts.Log = append(ts.Log, v1alpha1.HealthLogEntry{
				Start: metav1.NewMicroTime(start), End: metav1.NewMicroTime(start.Add(time.Millisecond)),
				Output: prefix + strings.Repeat("x", size-len(prefix)),
			})
		}
		st.Targets = append(st.Targets, ts)
	}
	return st
}

func TestFitStatusUnderBudgetIsUntouched(t *testing.T) {
	st := bigStatus(3, 5, 100)
	want := st.DeepCopy()
	size, fits := fitStatus(st, 1<<20)
	if !fits || size != jsonSize(want) {
		t.Errorf("fitStatus() = %d, %v; want %d, true", size, fits, jsonSize(want))
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("status changed (-want +got):\n%s", diff)
	}
}

func TestFitStatusOrderOfSacrifice(t *testing.T) {
	full := jsonSize(bigStatus(10, 5, 1000))
	tests := map[string]struct {
		budget int
		// check inspects each target's log (oldest first).
		check func(t *testing.T, log []v1alpha1.HealthLogEntry)
	}{
		"a little over: only the oldest outputs are shortened": {
			budget: full - 2000,
			check: func(t *testing.T, log []v1alpha1.HealthLogEntry) {
				wantLen(t, log, 5)
				wantTrimmed(t, log[0], true)
				for _, e := range log[1:] {
					wantTrimmed(t, e, false)
				}
			},
		},
		"more: every older output goes before the newest is touched": {
			budget: full - 4*10*1000 + 10*50,
			check: func(t *testing.T, log []v1alpha1.HealthLogEntry) {
				wantLen(t, log, 5)
				for _, e := range log[:4] {
					wantTrimmed(t, e, true)
				}
				wantTrimmed(t, log[1], true)
				wantTrimmed(t, log[4], false)
			},
		},
		"tight: newest output cut, but not below the floor while old entries remain": {
			budget: full - 4*10*1000 - 10*600,
			check: func(t *testing.T, log []v1alpha1.HealthLogEntry) {
				wantLen(t, log, 5)
				wantTrimmed(t, log[4], true)
				if n := len(log[4].Output); n < newestOutputFloor {
					t.Errorf("newest output is %d bytes, below the floor %d", n, newestOutputFloor)
				}
			},
		},
		"tighter: old entries dropped, oldest first, newest result kept": {
			budget: 10 * 700,
			check: func(t *testing.T, log []v1alpha1.HealthLogEntry) {
				if len(log) == 0 || len(log) == 5 {
					t.Fatalf("log has %d entries, want some dropped but the newest kept", len(log))
				}
				newest := log[len(log)-1]
				if !strings.Contains(newest.Output, "entry 4") {
					t.Errorf("newest entry is %q, want entry 4", newest.Output)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := bigStatus(10, 5, 1000)
			size, fits := fitStatus(st, tc.budget)
			if !fits || size > tc.budget || size != jsonSize(st) {
				t.Fatalf("fitStatus() = %d, %v; want a size <= %d that is the real one (%d)", size, fits, tc.budget, jsonSize(st))
			}
			for _, ts := range st.Targets {
				tc.check(t, ts.Log)
				if ts.Status != v1alpha1.Healthy {
					t.Errorf("target %s status changed to %s", ts.Pod, ts.Status)
				}
				for _, e := range ts.Log {
					if !strings.HasPrefix(e.Output, ts.Pod) && e.Output != ellipsis && len(e.Output) > len(ellipsis) {
						t.Errorf("output %q lost its start", e.Output)
					}
				}
			}
		})
	}
}

func TestFitStatus500TargetsOf4KiB(t *testing.T) {
	st := bigStatus(500, 5, 4096)
	before := jsonSize(st)
	start := time.Now()
	size, fits := fitStatus(st, DefaultStatusMaxBytes)
	t.Logf("500 targets x 5 x 4 KiB: %d bytes -> %d in %v", before, size, time.Since(start))
	if !fits || size > DefaultStatusMaxBytes {
		t.Fatalf("fitStatus() = %d, %v; want <= %d", size, fits, DefaultStatusMaxBytes)
	}
	for _, ts := range st.Targets {
		if len(ts.Log) == 0 {
			t.Fatalf("target %s lost its log", ts.Pod)
		}
		newest := ts.Log[len(ts.Log)-1]
		if !strings.HasPrefix(newest.Output, ts.Pod+" entry 4 ") || !strings.HasSuffix(newest.Output, ellipsis) {
			t.Errorf("target %s newest output %q, want its start kept and ... at the end", ts.Pod, newest.Output)
		}
	}
}

func TestFitStatusTooManyTargetsKeepsThemAll(t *testing.T) {
	st := bigStatus(200, 5, 100)
	size, fits := fitStatus(st, MinStatusMaxBytes)
	if fits {
		t.Fatalf("fitStatus() fits in %d bytes with 200 targets: the test needs a tighter budget", size)
	}
	if len(st.Targets) != 200 {
		t.Errorf("targets = %d, want 200", len(st.Targets))
	}
	for _, ts := range st.Targets {
		if len(ts.Log) != 1 || ts.Log[0].Output != ellipsis {
			t.Fatalf("target %s log = %+v, want only the newest entry, output %q", ts.Pod, ts.Log, ellipsis)
		}
	}
}

func wantLen(t *testing.T, log []v1alpha1.HealthLogEntry, n int) {
	t.Helper()
	if len(log) != n {
		t.Fatalf("log has %d entries, want %d", len(log), n)
	}
}

func wantTrimmed(t *testing.T, e v1alpha1.HealthLogEntry, trimmed bool) {
	t.Helper()
	if got := strings.HasSuffix(e.Output, ellipsis); got != trimmed {
		t.Errorf("output %.30q... (%d bytes) trimmed = %v, want %v", e.Output, len(e.Output), got, trimmed)
	}
}
