package prober

import (
	"context"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"
)

// execFunc adapts a function to Execer.
type execFunc func(ctx context.Context, t Target, cmd []string, stdout, stderr io.Writer, started func()) (int, error)

func (f execFunc) Exec(ctx context.Context, t Target, cmd []string, stdout, stderr io.Writer, started func()) (int, error) {
	return f(ctx, t, cmd, stdout, stderr, started)
}

// exits is an Execer that starts at once, prints output and exits with code.
func exits(code int, output string) Execer {
	return execFunc(func(_ context.Context, _ Target, _ []string, stdout, _ io.Writer, started func()) (int, error) {
		started()
		_, _ = io.WriteString(stdout, output)
		return code, nil
	})
}

// hangs is an Execer that starts, prints output, and runs until cancelled (as `sleep 5m`).
func hangs(output string) Execer {
	return execFunc(func(ctx context.Context, _ Target, _ []string, stdout, _ io.Writer, started func()) (int, error) {
		started()
		_, _ = io.WriteString(stdout, output)
		<-ctx.Done()
		return exitProbeError, ctx.Err()
	})
}

// script is an Execer whose successive calls exit with the given codes (the last repeats).
func script(codes ...int) Execer {
	var n atomic.Int64
	return execFunc(func(_ context.Context, _ Target, _ []string, _, _ io.Writer, started func()) (int, error) {
		started()
		i := int(n.Add(1)) - 1
		return codes[min(i, len(codes)-1)], nil
	})
}

// concurrency counts execs in flight, overall and per pod, and remembers the maxima.
type concurrency struct {
	mu       sync.Mutex
	now, max int
	perPod   map[string]int
	maxPod   int
	calls    int
}

// wrap counts around next.
func (c *concurrency) wrap(next Execer) Execer {
	return execFunc(func(ctx context.Context, t Target, cmd []string, stdout, stderr io.Writer, started func()) (int, error) {
		c.mu.Lock()
		if c.perPod == nil {
			c.perPod = map[string]int{}
		}
		c.calls++
		c.now++
		c.max = max(c.max, c.now)
		c.perPod[t.Pod]++
		c.maxPod = max(c.maxPod, c.perPod[t.Pod])
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.now--
			c.perPod[t.Pod]--
			c.mu.Unlock()
		}()
		return next.Exec(ctx, t, cmd, stdout, stderr, started)
	})
}

func (c *concurrency) stats() (now, maxAll, maxPod, calls int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now, c.max, c.maxPod, c.calls
}

// recorder is a Sink that keeps every Update.
type recorder struct {
	mu      sync.Mutex
	updates []Update
}

func (r *recorder) sink(u Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, u)
}

func (r *recorder) all() []Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.updates)
}

// of returns the Updates of one Key.
func (r *recorder) of(key Key) []Update {
	var out []Update
	for _, u := range r.all() {
		if u.Key == key {
			out = append(out, u)
		}
	}
	return out
}

// results returns the probe results delivered for key, in order.
func (r *recorder) results(key Key) []Result {
	var out []Result
	for _, u := range r.of(key) {
		if u.Result != nil {
			out = append(out, *u.Result)
		}
	}
	return out
}

// last returns the last Update of key.
func (r *recorder) last(t *testing.T, key Key) Update {
	t.Helper()
	us := r.of(key)
	if len(us) == 0 {
		t.Fatalf("no update for %v", key)
	}
	return us[len(us)-1]
}

// newTestManager returns a Manager on the real clock (fake inside a synctest bubble),
// with its own metrics registry and a recorder as Sink. It is shut down at cleanup.
func newTestManager(t *testing.T, e Execer, opts ...func(*Options)) (*Manager, *recorder) {
	t.Helper()
	rec := &recorder{}
	o := Options{
		Execer:     e,
		Clock:      clock.RealClock{},
		Sink:       rec.sink,
		Logger:     testr.New(t),
		Registerer: prometheus.NewRegistry(),
	}
	for _, f := range opts {
		f(&o)
	}
	m := NewManager(o)
	t.Cleanup(m.shutdown)
	return m, rec
}

// newTestProber returns a prober on the real clock (fake inside a synctest bubble).
func newTestProber(t *testing.T, e Execer, maxInFlight int) *prober {
	t.Helper()
	mt := newMetrics(prometheus.NewRegistry())
	return &prober{
		execer:       e,
		clock:        clock.RealClock{},
		limiter:      newLimiter(maxInFlight, mt),
		metrics:      mt,
		startTimeout: execStartTimeout,
		cancelGrace:  cancelGrace,
	}
}

var (
	testTarget = Target{Namespace: "ns", Pod: "web-0", Container: "app", ContainerID: "containerd://c1"}
	testKey    = Key{Namespace: "ns", Owner: "hc", Pod: "web-0"}
	testCmd    = []string{"/bin/sh", "-c", "true"}
)

// since0 returns the offsets of times from the bubble's start (synctest's epoch), for
// readable expectations.
func since0(ts ...time.Time) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, t := range ts {
		out[i] = t.Sub(bubbleEpoch)
	}
	return out
}

// bubbleEpoch is the fake time at which every synctest bubble starts.
var bubbleEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
