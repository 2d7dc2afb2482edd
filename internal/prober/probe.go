package prober

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

const (
	// execStartTimeout is Docker's deadline for an exec to start; the probe timeout only
	// starts counting once the exec has started.
	execStartTimeout = 30 * time.Second
	// cancelGrace bounds how long a timed-out probe waits for its cancelled exec before
	// reporting the timeout. A cancelled exec that outlives it keeps its slot, and the
	// monitor still waits for it before the next probe, so probes never overlap.
	cancelGrace = 5 * time.Second
)

// Execer runs one command in a container and reports its exit code.
//
// started is called once, when the exec stream is established (Docker's "exec started");
// the probe timeout counts from then. It must not block. An Execer that cannot tell may
// never call it: the exec then runs under the 30s start deadline only.
// A non-zero exit status is (code, nil); failure to run is (-1, err).
// Exec must return soon after ctx is cancelled: stopping a monitor waits for it.
// stdout and stderr may be the same writer; it is safe for concurrent writes.
type Execer interface {
	Exec(ctx context.Context, t Target, cmd []string, stdout, stderr io.Writer, started func()) (exitCode int, err error)
}

// execResult is what an exec goroutine hands back to its monitor.
type execResult struct {
	code int
	err  error
}

// prober runs single probes. One prober serves every monitor of a Manager; its fields are
// set at construction and only read afterwards, and it keeps no per-probe state: the state
// of one probe lives on the stack of the monitor goroutine running it.
type prober struct {
	execer       Execer
	clock        clock.WithTicker
	limiter      *limiter
	metrics      *metrics
	startTimeout time.Duration
	cancelGrace  time.Duration
}

// probe runs cmd once in t, as Docker's cmdProbe.run plus the monitor's error handling:
// wait for an exec slot (not counted against any deadline), start the exec, allow it
// startTimeout to start and then timeout to finish.
//
// It returns ok=false, and no result, when ctx was cancelled (the monitor is stopping);
// it has then waited for the exec to return. Otherwise it returns the result, and
// straggler is non-nil when a cancelled exec had not returned within cancelGrace: it
// delivers once that exec has returned, and the caller must wait for it before probing
// the same target again.
func (p *prober) probe(ctx context.Context, log logr.Logger, t Target, cmd []string, timeout time.Duration) (r Result, straggler <-chan execResult, ok bool) {
	waitStart := p.clock.Now()
	if err := p.limiter.acquire(ctx); err != nil {
		return Result{}, nil, false
	}
	start := p.clock.Now()
	p.metrics.slotWait.Observe(start.Sub(waitStart).Seconds())
	p.metrics.checks.Inc()

	execCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	output := &cappedBuffer{}
	started := make(chan struct{})
	var once sync.Once
	signalStarted := func() { once.Do(func() { close(started) }) }
	done := make(chan execResult, 1)
	go func() {
		code, err := p.execer.Exec(execCtx, t, cmd, output, output, signalStarted)
		p.limiter.release()
		done <- execResult{code: code, err: err}
	}()

	finish := func(code int, out string, failed bool) (Result, <-chan execResult, bool) {
		end := p.clock.Now()
		if failed {
			p.metrics.checksFailed.Inc()
		}
		p.metrics.probeDuration.Observe(end.Sub(start).Seconds())
		return Result{Start: start, End: end, ExitCode: code, Output: out}, straggler, true
	}
	fromExec := func(res execResult) (Result, <-chan execResult, bool) {
		if res.err != nil {
			log.V(1).Info("Health check error", "err", res.err.Error())
			return finish(exitProbeError, res.err.Error(), true)
		}
		return finish(res.code, output.String(), false)
	}
	// abandon cancels the exec and waits for it at most cancelGrace; false means the
	// monitor is stopping (it has then waited for the exec to the end).
	abandon := func() bool {
		cancel()
		grace := p.clock.NewTimer(p.cancelGrace)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C():
			log.Info("Cancelled health check still running", "grace", p.cancelGrace)
			straggler = done
		case <-ctx.Done():
			<-done
			return false
		}
		return true
	}

	startTimer := p.clock.NewTimer(p.startTimeout)
	select {
	case res := <-done:
		// Ended before (or without) signalling its start.
		startTimer.Stop()
		return fromExec(res)
	case <-started:
		startTimer.Stop()
		p.metrics.execStart.Observe(p.clock.Since(start).Seconds())
	case <-startTimer.C():
		if !abandon() {
			return Result{}, nil, false
		}
		msg := fmt.Sprintf("timed out starting health check for container %s", t.ContainerID)
		log.V(1).Info("Health check error", "err", msg)
		return finish(exitProbeError, msg, true)
	case <-ctx.Done():
		startTimer.Stop()
		<-done
		return Result{}, nil, false
	}

	timeoutTimer := p.clock.NewTimer(timeout)
	defer timeoutTimer.Stop()
	select {
	case res := <-done:
		return fromExec(res)
	case <-timeoutTimer.C():
		log.V(1).Info("Health check taking too long", "timeout", timeout)
		if !abandon() {
			return Result{}, nil, false
		}
		return finish(exitProbeError, timeoutMessage(timeout, output.String()), true)
	case <-ctx.Done():
		<-done
		return Result{}, nil, false
	}
}

// timeoutMessage is Docker's text for a probe that exceeded its timeout.
func timeoutMessage(timeout time.Duration, output string) string {
	if output != "" {
		return fmt.Sprintf("Health check exceeded timeout (%v): %s", timeout, output)
	}
	return fmt.Sprintf("Health check exceeded timeout (%v)", timeout)
}

// errorResult is the result of a probe that could not even be attempted (no command).
func (p *prober) errorResult(err error) Result {
	now := p.clock.Now()
	p.metrics.checks.Inc()
	p.metrics.checksFailed.Inc()
	return Result{Start: now, End: now, ExitCode: exitProbeError, Output: err.Error()}
}
