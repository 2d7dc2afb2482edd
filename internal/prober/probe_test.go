package prober

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-cmp/cmp"
)

// outcome is what a test checks of one probe: the result with times as offsets from the
// bubble's start.
type outcome struct {
	Start, End time.Duration
	ExitCode   int
	Output     string
}

func outcomeOf(r Result) outcome {
	d := since0(r.Start, r.End)
	return outcome{Start: d[0], End: d[1], ExitCode: r.ExitCode, Output: r.Output}
}

// TestProbe covers one probe: exit codes, output, exec errors, Docker's timeout texts, and
// the two deadlines (30s to start, then the timeout from the start), on synctest's clock.
func TestProbe(t *testing.T) {
	startsAfter := func(d time.Duration, then Execer) Execer {
		return execFunc(func(ctx context.Context, tg Target, cmd []string, stdout, stderr io.Writer, started func()) (int, error) {
			time.Sleep(d)
			return then.Exec(ctx, tg, cmd, stdout, stderr, started)
		})
	}
	tests := map[string]struct {
		execer  Execer
		timeout time.Duration
		want    outcome
	}{
		"exit 0 with output": {
			execer: exits(0, "OK\n"), timeout: time.Second,
			want: outcome{ExitCode: 0, Output: "OK\n"},
		},
		"exit 1": {
			execer: exits(1, "not ready"), timeout: time.Second,
			want: outcome{ExitCode: 1, Output: "not ready"},
		},
		"exit 2 (reserved) is passed through": {
			execer: exits(2, ""), timeout: time.Second,
			want: outcome{ExitCode: 2},
		},
		"exit 255": {
			execer: exits(255, ""), timeout: time.Second,
			want: outcome{ExitCode: 255},
		},
		"stdout and stderr share one buffer": {
			execer: execFunc(func(_ context.Context, _ Target, _ []string, stdout, stderr io.Writer, started func()) (int, error) {
				started()
				_, _ = io.WriteString(stdout, "out ")
				_, _ = io.WriteString(stderr, "err")
				return 0, nil
			}),
			timeout: time.Second,
			want:    outcome{Output: "out err"},
		},
		"exec error: -1 and the error's text, output dropped": {
			execer: execFunc(func(_ context.Context, _ Target, _ []string, stdout, _ io.Writer, _ func()) (int, error) {
				_, _ = io.WriteString(stdout, "ignored")
				return exitProbeError, errors.New(`pods "web-0" not found`)
			}),
			timeout: time.Second,
			want:    outcome{ExitCode: -1, Output: `pods "web-0" not found`},
		},
		"exec that never signals its start but finishes": {
			execer: execFunc(func(_ context.Context, _ Target, _ []string, stdout, _ io.Writer, _ func()) (int, error) {
				time.Sleep(3 * time.Second)
				_, _ = io.WriteString(stdout, "done")
				return 0, nil
			}),
			timeout: time.Second,
			want:    outcome{End: 3 * time.Second, Output: "done"},
		},
		"timeout without output": {
			execer: hangs(""), timeout: time.Second,
			want: outcome{End: time.Second, ExitCode: -1, Output: "Health check exceeded timeout (1s)"},
		},
		"timeout with output": {
			execer: hangs("partial"), timeout: 50 * time.Millisecond,
			want: outcome{End: 50 * time.Millisecond, ExitCode: -1, Output: "Health check exceeded timeout (50ms): partial"},
		},
		"timeout counts from the exec's start": {
			execer: startsAfter(10*time.Second, hangs("")), timeout: time.Second,
			want: outcome{End: 11 * time.Second, ExitCode: -1, Output: "Health check exceeded timeout (1s)"},
		},
		"a slow start within 30s is not a failure": {
			execer: startsAfter(29*time.Second, exits(0, "")), timeout: time.Second,
			want: outcome{End: 29 * time.Second},
		},
		"exec start deadline": {
			execer: execFunc(func(ctx context.Context, _ Target, _ []string, _, _ io.Writer, _ func()) (int, error) {
				<-ctx.Done()
				return exitProbeError, ctx.Err()
			}),
			timeout: time.Hour,
			want:    outcome{End: 30 * time.Second, ExitCode: -1, Output: "timed out starting health check for container containerd://c1"},
		},
		"timeout output keeps Docker's cap": {
			execer:  hangs(string(make([]byte, 5000))),
			timeout: time.Second,
			want:    outcome{End: time.Second, ExitCode: -1, Output: "Health check exceeded timeout (1s): " + string(make([]byte, maxOutputLen)) + "..."},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newTestProber(t, tc.execer, 1)
				r, straggler, ok := p.probe(t.Context(), testr.New(t), testTarget, testCmd, tc.timeout)
				if !ok || straggler != nil {
					t.Fatalf("probe ok=%v straggler=%v, want a result and no straggler", ok, straggler != nil)
				}
				if diff := cmp.Diff(tc.want, outcomeOf(r)); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestProbePassesCommandAndTarget checks the Execer gets the argv and target unchanged.
func TestProbePassesCommandAndTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var gotTarget Target
		var gotCmd []string
		p := newTestProber(t, execFunc(func(_ context.Context, tg Target, cmd []string, _, _ io.Writer, started func()) (int, error) {
			gotTarget, gotCmd = tg, cmd
			started()
			return 0, nil
		}), 1)
		if _, _, ok := p.probe(t.Context(), testr.New(t), testTarget, testCmd, time.Second); !ok {
			t.Fatal("no result")
		}
		if diff := cmp.Diff(testTarget, gotTarget); diff != "" {
			t.Errorf("target (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(testCmd, gotCmd); diff != "" {
			t.Errorf("argv (-want +got):\n%s", diff)
		}
	})
}

// TestProbeWaitsForCancelledExec: after a timeout the exec is cancelled and waited for, so
// output written while it dies is kept and dying probes do not pile up.
func TestProbeWaitsForCancelledExec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		returned := false
		p := newTestProber(t, execFunc(func(ctx context.Context, _ Target, _ []string, stdout, _ io.Writer, started func()) (int, error) {
			started()
			<-ctx.Done()
			time.Sleep(2 * time.Second) // takes a while to die
			_, _ = io.WriteString(stdout, "bye")
			returned = true
			return exitProbeError, ctx.Err()
		}), 1)
		r, straggler, ok := p.probe(t.Context(), testr.New(t), testTarget, testCmd, time.Second)
		if !ok || straggler != nil || !returned {
			t.Fatalf("ok=%v straggler=%v returned=%v; want the exec waited for", ok, straggler != nil, returned)
		}
		want := outcome{End: 3 * time.Second, ExitCode: -1, Output: "Health check exceeded timeout (1s): bye"}
		if diff := cmp.Diff(want, outcomeOf(r)); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
	})
}

// TestProbeBoundsWaitForCancelledExec: an exec that ignores cancellation delays the result
// by at most cancelGrace; it is handed back as a straggler still holding its slot.
func TestProbeBoundsWaitForCancelledExec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := newTestProber(t, execFunc(func(_ context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			started()
			<-release
			return 0, nil
		}), 1)
		r, straggler, ok := p.probe(t.Context(), testr.New(t), testTarget, testCmd, time.Second)
		if !ok || straggler == nil {
			t.Fatalf("ok=%v straggler=%v; want a result and a straggler", ok, straggler != nil)
		}
		want := outcome{End: time.Second + cancelGrace, ExitCode: -1, Output: "Health check exceeded timeout (1s)"}
		if diff := cmp.Diff(want, outcomeOf(r)); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
		if p.limiter.sem.TryAcquire(1) {
			t.Fatal("the straggler's slot was released while it still runs")
		}
		close(release)
		<-straggler
		if !p.limiter.sem.TryAcquire(1) {
			t.Fatal("the straggler's slot was not released when it returned")
		}
	})
}

// TestProbeStopped: cancelling the monitor's context cancels the exec, waits for it, and
// yields no result; at every phase.
func TestProbeStopped(t *testing.T) {
	tests := map[string]struct {
		signalStart bool
		stopAfter   time.Duration
	}{
		"while starting": {signalStart: false, stopAfter: 10 * time.Second},
		"while running":  {signalStart: true, stopAfter: 10 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				returned := false
				p := newTestProber(t, execFunc(func(ctx context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
					if tc.signalStart {
						started()
					}
					<-ctx.Done()
					time.Sleep(time.Second)
					returned = true
					return exitProbeError, ctx.Err()
				}), 1)
				ctx, cancel := context.WithCancel(t.Context())
				time.AfterFunc(tc.stopAfter, cancel)
				_, _, ok := p.probe(ctx, testr.New(t), testTarget, testCmd, time.Minute)
				if ok {
					t.Fatal("a stopped probe returned a result")
				}
				if !returned {
					t.Fatal("probe returned before its exec did")
				}
			})
		})
	}
}

// TestProbeStoppedWhileWaitingForSlot: a monitor stopped while queued for a slot never execs.
func TestProbeStoppedWhileWaitingForSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newTestProber(t, exits(0, ""), 1)
		if err := p.limiter.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer p.limiter.release()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Minute, cancel)
		if _, _, ok := p.probe(ctx, testr.New(t), testTarget, testCmd, time.Second); ok {
			t.Fatal("a probe stopped while queued returned a result")
		}
	})
}

// TestSlotWaitNotCounted: a probe queued behind others for longer than both its timeout
// and the 30s start deadline still gets its full timeout once its exec starts; its Start
// is when it got the slot.
func TestSlotWaitNotCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := execFunc(func(_ context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			started()
			time.Sleep(45 * time.Second)
			return 0, nil
		})
		p := newTestProber(t, nil, 1)
		p.execer = execFunc(func(ctx context.Context, tg Target, cmd []string, stdout, stderr io.Writer, started func()) (int, error) {
			if tg.Pod == "holder" {
				return hold.Exec(ctx, tg, cmd, stdout, stderr, started)
			}
			started()
			time.Sleep(1500 * time.Millisecond)
			return 0, nil
		})
		var wg sync.WaitGroup
		wg.Go(func() {
			holder := testTarget
			holder.Pod = "holder"
			_, _, _ = p.probe(t.Context(), testr.New(t), holder, testCmd, time.Minute)
		})
		synctest.Wait() // the holder has the only slot
		r, _, ok := p.probe(t.Context(), testr.New(t), testTarget, testCmd, 2*time.Second)
		wg.Wait()
		if !ok {
			t.Fatal("no result")
		}
		want := outcome{Start: 45 * time.Second, End: 46500 * time.Millisecond, ExitCode: 0}
		if diff := cmp.Diff(want, outcomeOf(r)); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
	})
}

// TestInFlightCap runs many probes at once through a small cap: never more execs in
// flight than the cap, and every probe eventually runs.
func TestInFlightCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const probes, limit = 200, 7
		var c concurrency
		p := newTestProber(t, c.wrap(execFunc(func(_ context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			started()
			time.Sleep(100 * time.Millisecond)
			return 0, nil
		})), limit)
		var wg sync.WaitGroup
		for range probes {
			wg.Go(func() {
				if _, _, ok := p.probe(t.Context(), testr.New(t), testTarget, testCmd, time.Second); !ok {
					t.Error("no result")
				}
			})
		}
		wg.Wait()
		now, maxAll, _, calls := c.stats()
		if maxAll != limit || now != 0 || calls != probes {
			t.Errorf("max in flight %d (want %d), left %d (want 0), calls %d (want %d)", maxAll, limit, now, calls, probes)
		}
	})
}

// TestInFlightCapFIFO: probes queued for a slot get it in arrival order.
func TestInFlightCapFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var order []string
		p := newTestProber(t, execFunc(func(_ context.Context, tg Target, _ []string, _, _ io.Writer, started func()) (int, error) {
			mu.Lock()
			order = append(order, tg.Pod)
			mu.Unlock()
			started()
			time.Sleep(time.Second)
			return 0, nil
		}), 1)
		var wg sync.WaitGroup
		var want []string
		for _, pod := range []string{"a", "b", "c", "d", "e"} {
			want = append(want, pod)
			tg := testTarget
			tg.Pod = pod
			wg.Go(func() { _, _, _ = p.probe(t.Context(), testr.New(t), tg, testCmd, time.Minute) })
			synctest.Wait() // queued before the next one arrives
		}
		wg.Wait()
		if diff := cmp.Diff(want, order); diff != "" {
			t.Errorf("exec order (-want +got):\n%s", diff)
		}
	})
}
