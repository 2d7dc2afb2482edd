package bench

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	streamhttp "k8s.io/streaming/pkg/httpstream"
)

// RawExec is one level of the raw exec measurement: client-go alone, as kubectl exec
// does it, with a fixed number of execs in flight.
type RawExec struct {
	InFlight int
	Execs    int
	Errors   int
	Elapsed  time.Duration
	Latency  Latencies
	// FirstError is the first error seen, to tell a broken exec path from a loaded one.
	FirstError string
	// CPU is this process's CPU use over the window: the client's and the simulated
	// node's (both live here), and how busy the machine was.
	CPU cpuUse
}

// PerSecond is the throughput of successful execs.
func (r RawExec) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Execs) / r.Elapsed.Seconds()
}

// rawExecer execs through the API server like kubectl: WebSocket first, SPDY when the
// upgrade fails, a new executor per exec (client-go's are single-use).
type rawExecer struct {
	config *rest.Config
	core   rest.Interface
}

func newRawExecer(cfg *rest.Config) (*rawExecer, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.GroupVersion = &corev1.SchemeGroupVersion
	cfg.APIPath = "/api"
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	core, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, err
	}
	return &rawExecer{config: cfg, core: core}, nil
}

func (e *rawExecer) exec(ctx context.Context, namespace, pod, container string, cmd []string) error {
	url := e.core.Post().Namespace(namespace).Resource("pods").Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true},
			scheme.ParameterCodec).URL()
	ws, err := remotecommand.NewWebSocketExecutor(e.config, http.MethodGet, url.String())
	if err != nil {
		return err
	}
	sp, err := remotecommand.NewSPDYExecutor(e.config, http.MethodPost, url)
	if err != nil {
		return err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, sp, streamhttp.IsUpgradeFailure)
	if err != nil {
		return err
	}
	return ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard, Stderr: io.Discard})
}

// rawExecGrace bounds how long an exec still running at the end of a window may take
// before it is abandoned; it is not counted either way.
const rawExecGrace = 10 * time.Second

// measureRawExec runs inFlight workers for d, worker i execing into pods[i % len(pods)]
// back to back, and times every exec that ends within the window. Execs still running at
// its end are cut off and not counted: the throughput is completions per second of
// window, the latencies those of completed execs.
func measureRawExec(ctx context.Context, e *rawExecer, namespace string, pods []string, inFlight int, d time.Duration) RawExec {
	cpuBefore, cpuErr := readCPU(0)
	start := time.Now()
	end := start.Add(d)
	// The execs' own deadline is later than the window's end: at the end exactly, the
	// WebSocket dialer's deadline (taken from the context) would turn execs that are
	// starting into i/o timeouts before the context reports itself done, and the
	// loop would count them as errors.
	ctx, cancel := context.WithDeadline(ctx, end.Add(rawExecGrace))
	defer cancel()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		errs     int
		firstErr string
	)
	var wg sync.WaitGroup
	for w := range inFlight {
		pod := pods[w%len(pods)]
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				t0 := time.Now()
				err := e.exec(ctx, namespace, pod, "app", []string{"true"})
				t1 := time.Now()
				if t1.After(end) {
					return
				}
				mu.Lock()
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					lat = append(lat, t1.Sub(t0))
				}
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done(): // an exec ignored its context: report what ended in the window
	}
	var cpu cpuUse
	if cpuAfter, err := readCPU(0); err == nil && cpuErr == nil {
		cpu = cpuAfter.since(cpuBefore)
	}
	mu.Lock()
	defer mu.Unlock()
	return RawExec{InFlight: inFlight, Execs: len(lat), Errors: errs, Elapsed: d,
		Latency: summarize(slices.Clone(lat)), FirstError: firstErr, CPU: cpu}
}
