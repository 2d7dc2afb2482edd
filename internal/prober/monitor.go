package prober

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/go-logr/logr"
)

// Update is delivered after every probe result and every monitor (re)start.
type Update struct {
	Key    Key
	Target Target
	// Health is a copy the receiver owns (it may, say, shorten outputs in place).
	Health Health
	// Previous is the status before this update ("" for a fresh monitor).
	Previous v1alpha1.HealthStatus
	// StatusChanged is Health.Status != Previous with Previous != "": Docker's
	// health_status event (none for the initial starting).
	StatusChanged bool
	// Result is the probe result that caused the update; nil for (re)starts.
	Result *Result
}

// Sink receives updates from monitor goroutines. It must not block (store and enqueue).
// Updates of one Key come from one goroutine at a time, in order; different Keys call it
// concurrently.
type Sink func(Update)

// published is what a monitor last made visible to readers. Never modified once stored.
type published struct {
	health Health
	target Target
}

// monitor is the Docker monitor loop for one target (one container instance).
//
// Ownership: the fields above the line are set by the Manager before the goroutine starts
// and only read afterwards. health and straggler are owned by the run goroutine; the
// successor monitor reads health only after done is closed. latest is written by the
// run goroutine (and once by the Manager before it starts) and read by anyone.
type monitor struct {
	key    Key
	spec   Spec
	cfg    Config // spec.Config with defaults applied
	cmd    []string
	cmdErr error
	prober *prober
	sink   Sink
	log    logr.Logger
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned and no exec of this monitor is left

	// after, when set, is the done channel of a monitor of the same Key that must end
	// before this one starts, so that one Key never has two probes in flight.
	after <-chan struct{}
	// inherit, when set, is that predecessor: its final health is taken over (log kept),
	// reset to starting with streak 0 when resetHealth is set (new container or config).
	// Without a predecessor, health is set (fresh or from a seed) before run starts.
	inherit     *monitor
	resetHealth bool
	// ---

	health    health
	straggler <-chan execResult

	latest atomic.Pointer[published]
}

func newMonitor(key Key, spec Spec, p *prober, sink Sink, log logr.Logger) *monitor {
	w := &monitor{
		key:    key,
		spec:   spec,
		cfg:    spec.Config.withDefaults(),
		prober: p,
		sink:   sink,
		log:    log,
		done:   make(chan struct{}),
	}
	w.cmd, w.cmdErr = buildCommand(w.cfg, spec.Target)
	return w
}

// run is the loop: take over the predecessor's state, publish, then wait and probe until
// ctx is cancelled. It is the only writer of the monitor's state.
func (w *monitor) run(ctx context.Context) {
	defer close(w.done)
	defer w.waitStraggler()

	previous := w.initialize()
	if ctx.Err() != nil {
		return
	}
	w.publish(previous, nil)
	w.log.V(1).Info("Health monitor started", "status", w.health.status, "previous", previous)

	timer := w.prober.clock.NewTimer(w.nextWait())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		}
		if !w.doProbe(ctx) {
			return
		}
		timer.Reset(w.nextWait())
	}
}

// initialize waits for the predecessor (if any) and sets the starting state; it returns
// the status to report as Previous.
func (w *monitor) initialize() v1alpha1.HealthStatus {
	if w.after != nil {
		// Unconditionally, even when already cancelled: a successor of this monitor relies
		// on "this done closed" meaning "every earlier monitor of the Key is gone".
		<-w.after
	}
	var previous v1alpha1.HealthStatus
	if w.inherit != nil {
		previous = w.inherit.health.status
		w.health = newHealth(w.inherit.health.log)
		if !w.resetHealth {
			w.health.status, w.health.streak = w.inherit.health.status, w.inherit.health.streak
		}
	}
	// Drop the references so a chain of replaced monitors can be collected.
	w.after, w.inherit = nil, nil
	return previous
}

// doProbe is the step: run one probe and apply its result. It returns false when the
// monitor was stopped during the probe; the result is then discarded, as Docker does.
func (w *monitor) doProbe(ctx context.Context) bool {
	if !w.waitStragglerCtx(ctx) {
		return false
	}
	var r Result
	if w.cmdErr != nil {
		r = w.prober.errorResult(w.cmdErr)
	} else {
		var ok bool
		r, w.straggler, ok = w.prober.probe(ctx, w.log, w.spec.Target, w.cmd, w.cfg.Timeout)
		if !ok {
			return false
		}
	}
	if ctx.Err() != nil {
		// Stopped or replaced as the probe ended: drop the result, as Docker does.
		return false
	}
	previous := w.health.status
	w.health.apply(r, w.spec.Target.StartedAt, w.cfg)
	w.log.V(1).Info("Health check done", "exitCode", r.ExitCode, "status", w.health.status, "failingStreak", w.health.streak)
	w.publish(previous, &r)
	return true
}

// nextWait is the wait before the next probe, from now.
func (w *monitor) nextWait() time.Duration {
	return nextWait(w.prober.clock.Now(), w.spec.Target.StartedAt, w.health.status, w.cfg)
}

// publish makes the current state visible: one copy for Snapshot readers, another for
// the Sink, which may modify its copy.
func (w *monitor) publish(previous v1alpha1.HealthStatus, r *Result) {
	w.latest.Store(&published{health: w.health.snapshot(), target: w.spec.Target})
	if w.sink == nil {
		return
	}
	u := Update{
		Key:           w.key,
		Target:        w.spec.Target,
		Health:        w.health.snapshot(),
		Previous:      previous,
		StatusChanged: previous != "" && previous != w.health.status,
	}
	if r != nil {
		rc := *r
		u.Result = &rc
	}
	w.sink(u)
}

// waitStraggler waits for an exec that outlived its probe's cancellation.
func (w *monitor) waitStraggler() {
	if w.straggler != nil {
		<-w.straggler
		w.straggler = nil
	}
}

// waitStragglerCtx is waitStraggler that gives up when ctx is done (run's deferred
// waitStraggler then finishes the wait).
func (w *monitor) waitStragglerCtx(ctx context.Context) bool {
	if w.straggler == nil {
		return true
	}
	select {
	case <-w.straggler:
		w.straggler = nil
		return true
	case <-ctx.Done():
		return false
	}
}

// snapshot returns a copy of the last published state.
func (w *monitor) snapshot() (Health, Target) {
	p := w.latest.Load()
	h := p.health
	h.Log = slices.Clone(h.Log)
	return h, p.target
}
