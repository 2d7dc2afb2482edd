package prober

import (
	"context"
	"sync"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Options configures a Manager.
type Options struct {
	// Execer runs the probes' commands. Required.
	Execer Execer
	// Clock drives every timer; default clock.RealClock{}.
	Clock clock.WithTicker
	// MaxInFlight caps execs in flight across all monitors; default DefaultMaxInFlight (32).
	MaxInFlight int
	// Sink receives every Update; nil drops them (Snapshot still works).
	Sink Sink
	// Logger; default logr.Discard().
	Logger logr.Logger
	// Registerer receives the metrics; default controller-runtime's metrics.Registry.
	// Registering twice (two Managers) shares the collectors instead of panicking.
	Registerer prometheus.Registerer
}

// Manager starts, replaces and stops monitors by Key. It is safe for concurrent use.
//
// Its one mutex guards only the two maps and closed; it is never held while waiting for a
// monitor, an exec, an API call or the Sink. A monitor's state belongs to the monitor's
// goroutine; the Manager reads it only through published snapshots.
type Manager struct {
	prober *prober
	sink   Sink
	log    logr.Logger

	mu sync.Mutex
	// monitors are the live monitors, one per Key.
	monitors map[Key]*monitor
	// stopping are monitors removed by Stop whose goroutine may still be running; a new
	// monitor of the same Key waits for them before it probes.
	stopping map[Key]*monitor
	// closed is set once Start's context is done: no monitor starts afterwards.
	closed bool
}

var (
	_ manager.Runnable               = (*Manager)(nil)
	_ manager.LeaderElectionRunnable = (*Manager)(nil)
)

// NewManager returns a Manager with no monitors. It panics if opts.Execer is nil.
func NewManager(opts Options) *Manager {
	if opts.Execer == nil {
		panic("prober.NewManager: Options.Execer is nil")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	m := newMetrics(opts.Registerer)
	return &Manager{
		prober: &prober{
			execer:       opts.Execer,
			clock:        opts.Clock,
			limiter:      newLimiter(opts.MaxInFlight, m),
			metrics:      m,
			startTimeout: execStartTimeout,
			cancelGrace:  cancelGrace,
		},
		sink:     opts.Sink,
		log:      opts.Logger,
		monitors: map[Key]*monitor{},
		stopping: map[Key]*monitor{},
	}
}

// Ensure makes the monitor for key run spec; idempotent. It never waits for a monitor.
//   - no monitor: start one; its initial Health is *seed if seed != nil (operator restart with
//     the same containerID: resume, no flap to starting), else {starting, 0, nil}.
//   - same Spec (Spec.Equal): no-op; seed is ignored.
//   - new ContainerID (restart) or new Config: replace; status starting, streak 0, log KEPT (Docker).
//   - StartedAt/other Target field changes with the same ContainerID: replace, health kept.
//   - a disabled Config (test NONE): like Stop, since Docker runs no monitor then (this waits).
//
// A replacement cancels the old monitor's probe in flight (its result is dropped) and starts
// probing only once the old monitor has ended, with a full first wait (no probe at t=0).
func (m *Manager) Ensure(key Key, spec Spec, seed *Health) {
	if spec.Config.Disabled() {
		m.Stop(key)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		m.log.V(1).Info("Ignoring health monitor after shutdown", "key", key)
		return
	}
	old := m.monitors[key]
	if old != nil && old.spec.Equal(spec) {
		return
	}

	log := m.log.WithValues("namespace", key.Namespace, "healthCheck", key.Owner, "pod", key.Pod,
		"container", spec.Target.Container, "containerID", spec.Target.ContainerID)
	w := newMonitor(key, spec, m.prober, m.sink, log)
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	// What Snapshot shows until the goroutine has taken over (it republishes at once).
	var initial Health
	switch {
	case old != nil:
		old.cancel()
		w.after, w.inherit = old.done, old
		w.resetHealth = old.spec.Target.ContainerID != spec.Target.ContainerID || !old.spec.Config.Equal(spec.Config)
		initial, _ = old.snapshot()
		if w.resetHealth {
			initial.Status, initial.FailingStreak = newHealth(nil).status, 0
		}
		log.V(1).Info("Replacing health monitor", "reset", w.resetHealth)
	case seed != nil:
		w.health = healthFrom(*seed) // a copy: the caller keeps its seed
		initial = w.health.snapshot()
	default:
		w.health = newHealth(nil)
		initial = w.health.snapshot()
	}
	if old == nil {
		if s := m.stopping[key]; s != nil {
			w.after = s.done
		}
	}
	w.latest.Store(&published{health: initial, target: spec.Target})
	m.monitors[key] = w
	go w.run(ctx)
}

// Stop cancels the monitor's in-flight probe and waits for its goroutine to end; idempotent.
// No Update for key is delivered after Stop returns (until a new Ensure).
func (m *Manager) Stop(key Key) {
	m.mu.Lock()
	w := m.detachLocked(key)
	if w == nil {
		w = m.stopping[key]
	}
	m.mu.Unlock()
	if w != nil {
		m.wait(key, w)
	}
}

// StopOwner stops every monitor of one HealthCheck, all at once, and waits for them.
func (m *Manager) StopOwner(namespace, owner string) {
	m.mu.Lock()
	stopped := map[Key]*monitor{}
	for key := range m.monitors {
		if key.Namespace == namespace && key.Owner == owner {
			stopped[key] = m.detachLocked(key)
		}
	}
	for key, w := range m.stopping {
		if key.Namespace == namespace && key.Owner == owner && stopped[key] == nil {
			stopped[key] = w
		}
	}
	m.mu.Unlock()
	for key, w := range stopped {
		m.wait(key, w)
	}
}

// Keys lists running monitors (a copy, in no particular order).
func (m *Manager) Keys() []Key {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]Key, 0, len(m.monitors))
	for key := range m.monitors {
		keys = append(keys, key)
	}
	return keys
}

// Snapshot returns a copy of one monitor's current state (as of its last Update).
func (m *Manager) Snapshot(key Key) (Health, Target, bool) {
	m.mu.Lock()
	w := m.monitors[key]
	m.mu.Unlock()
	if w == nil {
		return Health{}, Target{}, false
	}
	h, t := w.snapshot()
	return h, t, true
}

// Start implements controller-runtime's manager.Runnable: it blocks until ctx is done,
// then stops every monitor and waits for them. Ensure is a no-op afterwards.
func (m *Manager) Start(ctx context.Context) error {
	<-ctx.Done()
	m.shutdown()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: only the leader probes,
// since only the leader's controller writes status.
func (m *Manager) NeedLeaderElection() bool { return true }

// shutdown stops every monitor, all at once, and waits for them.
func (m *Manager) shutdown() {
	m.mu.Lock()
	m.closed = true
	all := map[*monitor]Key{}
	for key := range m.monitors {
		all[m.detachLocked(key)] = key
	}
	for key, w := range m.stopping {
		all[w] = key
	}
	m.mu.Unlock()
	for w, key := range all {
		m.wait(key, w)
	}
	m.log.V(1).Info("Health monitors stopped", "count", len(all))
}

// detachLocked removes key's live monitor, cancels it and records it as stopping.
func (m *Manager) detachLocked(key Key) *monitor {
	w := m.monitors[key]
	if w == nil {
		return nil
	}
	delete(m.monitors, key)
	w.cancel()
	m.stopping[key] = w
	return w
}

// wait waits, without the lock, for a detached monitor to end, then forgets it.
func (m *Manager) wait(key Key, w *monitor) {
	<-w.done
	m.mu.Lock()
	if m.stopping[key] == w {
		delete(m.stopping, key)
	}
	m.mu.Unlock()
}
