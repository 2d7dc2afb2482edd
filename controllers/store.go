package controllers

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
)

// maxPendingEvents bounds the Events queued for one HealthCheck between two reconciles;
// the oldest are dropped first (a flapping check's newest transitions matter most).
const maxPendingEvents = 256

// healthStore is the prober's Sink and the controller's memory of each target.
//
// Ownership: the store owns everything below mu; every method locks, none holds the lock
// while calling out (kick is called after unlocking) and readers get copies. Monitor
// goroutines write through sink; the reconciler through the other methods. The
// reconciler never runs twice at once for one HealthCheck (the workqueue ensures it),
// which is what makes read-decide-write sequences on one HealthCheck's state safe.
type healthStore struct {
	clock            clock.PassiveClock
	minWriteInterval time.Duration
	// kick requests a reconcile of a HealthCheck; it must not block.
	kick func(types.NamespacedName)

	mu     sync.Mutex
	owners map[types.NamespacedName]*ownerState
}

// ownerState is the store's part for one HealthCheck.
type ownerState struct {
	uid     types.UID
	targets map[string]*targetRecord // by pod name
	wake    kickState
	events  []pendingEvent
	// written is the status this process last wrote, and when; nil before the first write.
	written   *v1alpha1.HealthCheckStatus
	writtenAt time.Time
}

// targetRecord is what is known of one target beyond the running monitor.
type targetRecord struct {
	podUID types.UID
	// known is the last health a monitor published, with its container; nil before any.
	known *knownHealth
	// stopped is set once the reconciler stopped the monitor because the container is not
	// running; known.Health.Status is then unhealthy.
	stopped bool
}

// pendingEvent is a status change waiting to be reported as Events.
type pendingEvent struct {
	Pod, Container string
	PodUID         types.UID
	Status         v1alpha1.HealthStatus
	// ExitCode and Output are the probe result that changed the status.
	ExitCode int
	Output   string
	// Reason is set instead when no probe changed it (the container stopped).
	Reason string
}

func newHealthStore(c clock.PassiveClock, minWriteInterval time.Duration, kick func(types.NamespacedName)) *healthStore {
	return &healthStore{clock: c, minWriteInterval: minWriteInterval, kick: kick, owners: map[types.NamespacedName]*ownerState{}}
}

func (s *healthStore) ownerLocked(owner types.NamespacedName) *ownerState {
	o := s.owners[owner]
	if o == nil {
		o = &ownerState{targets: map[string]*targetRecord{}}
		s.owners[owner] = o
	}
	return o
}

// sink receives the prober's updates: it records the health, queues an Event on a status
// change caused by a probe result (not on a monitor's start), and wakes the reconciler
// when the update calls for it. It never blocks.
func (s *healthStore) sink(u prober.Update) {
	owner := types.NamespacedName{Namespace: u.Key.Namespace, Name: u.Key.Owner}
	urgent := u.Result == nil || u.Health.Status != u.Previous
	now := s.clock.Now()

	s.mu.Lock()
	o := s.ownerLocked(owner)
	rec := o.targets[u.Key.Pod]
	if rec == nil {
		rec = &targetRecord{}
		o.targets[u.Key.Pod] = rec
	}
	rec.known = &knownHealth{ContainerID: u.Target.ContainerID, Health: u.Health}
	rec.stopped = false
	if u.StatusChanged && u.Result != nil {
		o.addEventLocked(pendingEvent{
			Pod: u.Key.Pod, Container: u.Target.Container, PodUID: rec.podUID,
			Status: u.Health.Status, ExitCode: u.Result.ExitCode, Output: u.Result.Output,
		})
	}
	kick := shouldKick(now, urgent, o.wake, s.minWriteInterval)
	if kick {
		o.wake.kicked = true
	}
	s.mu.Unlock()

	if kick {
		s.kick(owner)
	}
}

func (o *ownerState) addEventLocked(e pendingEvent) {
	if len(o.events) >= maxPendingEvents {
		o.events = slices.Delete(o.events, 0, len(o.events)-maxPendingEvents+1)
	}
	o.events = append(o.events, e)
}

// begin starts a reconcile of owner: later updates wake the reconciler again, and the
// queued Events are handed over.
func (s *healthStore) begin(owner types.NamespacedName) []pendingEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.owners[owner]
	if o == nil {
		return nil
	}
	o.wake = kickState{}
	events := o.events
	o.events = nil
	return events
}

// adopt binds owner's state to the HealthCheck object uid. It returns false when the state
// belonged to another object of the same name; the caller then stops that object's
// monitors and calls forgetOwner before going on.
func (s *healthStore) adopt(owner types.NamespacedName, uid types.UID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ownerLocked(owner)
	if o.uid != "" && o.uid != uid {
		return false
	}
	o.uid = uid
	return true
}

// deferUntil records that the reconciler put a write off until t (see shouldKick).
func (s *healthStore) deferUntil(owner types.NamespacedName, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.owners[owner]; o != nil {
		o.wake.deferredUntil = t
	}
}

// record returns a copy of what is known of one target; podUID is "" when nothing is.
func (s *healthStore) record(owner types.NamespacedName, pod string) (podUID types.UID, known *knownHealth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.owners[owner]
	if o == nil || o.targets[pod] == nil {
		return "", nil
	}
	rec := o.targets[pod]
	if rec.known != nil {
		known = &knownHealth{ContainerID: rec.known.ContainerID, Health: cloneHealth(rec.known.Health)}
	}
	return rec.podUID, known
}

// track records that pod (of uid podUID) is a target of owner, before its monitor starts.
func (s *healthStore) track(owner types.NamespacedName, pod string, podUID types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ownerLocked(owner)
	rec := o.targets[pod]
	if rec == nil {
		rec = &targetRecord{}
		o.targets[pod] = rec
	}
	rec.podUID = podUID
}

// markStopped records that the target's monitor was stopped because its container is not
// running: a target that had a health becomes unhealthy, as Docker marks a container whose
// monitor stopped. It returns the health to report, and whether it just turned unhealthy.
func (s *healthStore) markStopped(owner types.NamespacedName, pod string) (*knownHealth, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.owners[owner]
	if o == nil || o.targets[pod] == nil || o.targets[pod].known == nil {
		return nil, false
	}
	rec := o.targets[pod]
	turned := !rec.stopped && rec.known.Health.Status != v1alpha1.Unhealthy
	rec.stopped = true
	rec.known.Health.Status = v1alpha1.Unhealthy
	return &knownHealth{ContainerID: rec.known.ContainerID, Health: cloneHealth(rec.known.Health)}, turned
}

// remember stores a health learnt from elsewhere than a monitor (the written status,
// after an operator restart) for a target whose container is not running.
func (s *healthStore) remember(owner types.NamespacedName, pod string, known knownHealth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.ownerLocked(owner).targets[pod]
	if rec == nil {
		rec = &targetRecord{}
		s.ownerLocked(owner).targets[pod] = rec
	}
	known.Health = cloneHealth(known.Health)
	rec.known, rec.stopped = &known, true
}

// pods lists the targets known for owner.
func (s *healthStore) pods(owner types.NamespacedName) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.owners[owner]
	if o == nil {
		return nil
	}
	pods := make([]string, 0, len(o.targets))
	for pod := range o.targets {
		pods = append(pods, pod)
	}
	return pods
}

// forget drops one target; its monitor must be stopped first.
func (s *healthStore) forget(owner types.NamespacedName, pod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.owners[owner]; o != nil {
		delete(o.targets, pod)
	}
}

// forgetTargets drops every target of owner (test NONE, invalid selector) but keeps what
// was written; the monitors must be stopped first.
func (s *healthStore) forgetTargets(owner types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.owners[owner]; o != nil {
		o.targets = map[string]*targetRecord{}
	}
}

// forgetOwner drops everything about owner; its monitors must be stopped first.
func (s *healthStore) forgetOwner(owner types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.owners, owner)
}

// written returns a copy of the status last written for owner, and when.
func (s *healthStore) written(owner types.NamespacedName) (*v1alpha1.HealthCheckStatus, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.owners[owner]
	if o == nil || o.written == nil {
		return nil, time.Time{}
	}
	return o.written.DeepCopy(), o.writtenAt
}

// setWritten records a successful status write.
func (s *healthStore) setWritten(owner types.NamespacedName, st *v1alpha1.HealthCheckStatus, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ownerLocked(owner)
	o.written, o.writtenAt = st.DeepCopy(), at
}
