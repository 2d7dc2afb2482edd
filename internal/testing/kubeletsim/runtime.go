package kubeletsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Why an exec was refused or ended early. They reach the client as the exec's error.
var (
	errPodUnknown          = errors.New("pod is not running on this node")
	errContainerUnknown    = errors.New("container not found in pod")
	errContainerNotRunning = errors.New("container is not running")
	errPodTerminating      = errors.New("pod is terminating: container killed")
	errPodGone             = errors.New("pod was deleted: container killed")
	errContainerStopped    = errors.New("container stopped")
	errContainerRestarted  = errors.New("container restarted")
)

// podKey identifies a pod by name; the UID in podState tells incarnations apart.
type podKey struct{ namespace, name string }

func (k podKey) String() string { return k.namespace + "/" + k.name }

// containerSnapshot is one container's runtime state, as a value. lastTerminated is never
// mutated once set (a new one replaces it), so copies may share it.
type containerSnapshot struct {
	name           string
	init           bool // a non-restartable init container: it ran to completion at start
	id             string
	running        bool
	startedAt      metav1.Time
	finishedAt     metav1.Time
	exitCode       int32
	reason         string
	restartCount   int32
	lastTerminated *corev1.ContainerStateTerminated
}

type podSnapshot struct {
	uid         types.UID
	startTime   metav1.Time
	ip          string
	terminating bool
	containers  map[string]containerSnapshot
}

type containerState struct {
	containerSnapshot
	execs map[uint64]context.CancelCauseFunc // execs running in this container
}

type podState struct {
	uid         types.UID
	startTime   metav1.Time
	ip          string
	terminating bool
	containers  map[string]*containerState
}

// containerRuntime is the simulated container runtime. It owns every container's state
// and the cancel functions of the execs running in each, behind mu. Every method locks and
// none calls out while locked: cancel functions are returned as execCancels for the
// caller to fire.
type containerRuntime struct {
	clock clock.PassiveClock

	mu       sync.Mutex
	pods     map[podKey]*podState
	nextExec uint64
	nextIP   uint32
}

func newContainerRuntime(clk clock.PassiveClock) *containerRuntime {
	return &containerRuntime{clock: clk, pods: map[podKey]*podState{}}
}

// execCancels ends execs; fire it after the runtime's lock is released.
type execCancels []context.CancelCauseFunc

func (c execCancels) fire(cause error) {
	for _, cancel := range c {
		cancel(cause)
	}
}

// now is truncated to what the API server stores, so that a status computed again from
// the same state compares equal to the one read back.
func (r *containerRuntime) now() metav1.Time {
	return metav1.NewTime(r.clock.Now()).Rfc3339Copy()
}

// ensure starts the containers of pod if this incarnation of it has not been seen yet,
// and returns its state. Execs into an older incarnation are returned to be ended.
func (r *containerRuntime) ensure(pod *corev1.Pod) (podSnapshot, execCancels) {
	key := podKey{pod.Namespace, pod.Name}
	r.mu.Lock()
	defer r.mu.Unlock()
	ps, ok := r.pods[key]
	if ok && ps.uid == pod.UID {
		return ps.snapshot(), nil
	}
	var stale execCancels
	if ok {
		stale = ps.takeExecs()
	}
	now := r.now()
	r.nextIP++
	ps = &podState{
		uid:        pod.UID,
		startTime:  now,
		ip:         fmt.Sprintf("10.%d.%d.%d", 64+(r.nextIP>>16)%64, (r.nextIP>>8)%256, r.nextIP%256),
		containers: map[string]*containerState{},
	}
	for _, c := range pod.Spec.InitContainers {
		sidecar := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		cs := &containerState{containerSnapshot: containerSnapshot{
			name: c.Name, init: !sidecar, id: newContainerID(), running: true, startedAt: now,
		}}
		if !sidecar {
			cs.running, cs.finishedAt, cs.reason = false, now, "Completed"
		}
		ps.containers[c.Name] = cs
	}
	for _, c := range pod.Spec.Containers {
		ps.containers[c.Name] = &containerState{containerSnapshot: containerSnapshot{
			name: c.Name, id: newContainerID(), running: true, startedAt: now,
		}}
	}
	r.pods[key] = ps
	return ps.snapshot(), stale
}

func (r *containerRuntime) snapshot(key podKey) (podSnapshot, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps, ok := r.pods[key]
	if !ok {
		return podSnapshot{}, false
	}
	return ps.snapshot(), true
}

// terminate kills every container of the pod, as a kubelet does once the pod has a
// deletionTimestamp.
func (r *containerRuntime) terminate(key podKey, uid types.UID) (podSnapshot, execCancels, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps, ok := r.pods[key]
	if !ok || ps.uid != uid {
		return podSnapshot{}, nil, false
	}
	if !ps.terminating {
		ps.terminating = true
		now := r.now()
		for _, cs := range ps.containers {
			if cs.running {
				cs.running, cs.finishedAt, cs.exitCode, cs.reason = false, now, 0, "Completed"
			}
		}
	}
	return ps.snapshot(), ps.takeExecs(), true
}

// forget drops a pod that is gone from the API server.
func (r *containerRuntime) forget(key podKey) execCancels {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps, ok := r.pods[key]
	if !ok {
		return nil
	}
	delete(r.pods, key)
	return ps.takeExecs()
}

// restart replaces a container as a kubelet does after a crash: new ID, new start time,
// one more restart, and the old one (killed, exit code 137) as lastState.
func (r *containerRuntime) restart(key podKey, name string) (execCancels, error) {
	return r.mutate(key, name, func(cs *containerState, now metav1.Time) {
		if cs.running {
			cs.running, cs.finishedAt, cs.exitCode, cs.reason = false, now, 137, "Error"
		}
		cs.start(now)
	})
}

func (r *containerRuntime) stop(key podKey, name string, exitCode int32) (execCancels, error) {
	return r.mutate(key, name, func(cs *containerState, now metav1.Time) {
		if !cs.running {
			return
		}
		reason := "Completed"
		if exitCode != 0 {
			reason = "Error"
		}
		cs.running, cs.finishedAt, cs.exitCode, cs.reason = false, now, exitCode, reason
	})
}

func (r *containerRuntime) start(key podKey, name string) error {
	_, err := r.mutate(key, name, func(cs *containerState, now metav1.Time) {
		if !cs.running {
			cs.start(now)
		}
	})
	return err
}

// mutate applies change to one container and returns the execs running in it.
func (r *containerRuntime) mutate(key podKey, name string, change func(*containerState, metav1.Time)) (execCancels, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps, ok := r.pods[key]
	if !ok {
		return nil, fmt.Errorf("pod %s: %w", key, errPodUnknown)
	}
	if ps.terminating {
		return nil, fmt.Errorf("pod %s: %w", key, errPodTerminating)
	}
	cs, ok := ps.containers[name]
	if !ok {
		return nil, fmt.Errorf("pod %s, container %q: %w", key, name, errContainerUnknown)
	}
	change(cs, r.now())
	cancels := execCancels(nil)
	for id, cancel := range cs.execs {
		cancels = append(cancels, cancel)
		delete(cs.execs, id)
	}
	return cancels, nil
}

// execTarget is what an exec needs to know about the container it runs in.
type execTarget struct {
	podUID      types.UID
	containerID string
}

// beginExec admits an exec into a running container and keeps its cancel function, so
// that stopping the container ends it. Checking and registering under one lock means no
// exec can slip in while its container is being stopped.
func (r *containerRuntime) beginExec(key podKey, name string, cancel context.CancelCauseFunc) (execTarget, uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps, ok := r.pods[key]
	if !ok {
		return execTarget{}, 0, errPodUnknown
	}
	if ps.terminating {
		return execTarget{}, 0, errPodTerminating
	}
	cs, ok := ps.containers[name]
	if !ok {
		return execTarget{}, 0, fmt.Errorf("%w: %q", errContainerUnknown, name)
	}
	if !cs.running {
		return execTarget{}, 0, fmt.Errorf("%w: %q", errContainerNotRunning, name)
	}
	r.nextExec++
	if cs.execs == nil {
		cs.execs = map[uint64]context.CancelCauseFunc{}
	}
	cs.execs[r.nextExec] = cancel
	return execTarget{podUID: ps.uid, containerID: cs.id}, r.nextExec, nil
}

func (r *containerRuntime) endExec(key podKey, name string, id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ps, ok := r.pods[key]; ok {
		if cs, ok := ps.containers[name]; ok {
			delete(cs.execs, id)
		}
	}
}

// start puts a new incarnation of the container in place of the terminated one.
func (cs *containerState) start(now metav1.Time) {
	cs.lastTerminated = &corev1.ContainerStateTerminated{
		ExitCode: cs.exitCode, Reason: cs.reason, StartedAt: cs.startedAt, FinishedAt: cs.finishedAt,
		ContainerID: cs.id,
	}
	cs.id, cs.running, cs.startedAt = newContainerID(), true, now
	cs.finishedAt, cs.exitCode, cs.reason = metav1.Time{}, 0, ""
	cs.restartCount++
}

func (ps *podState) snapshot() podSnapshot {
	s := podSnapshot{
		uid: ps.uid, startTime: ps.startTime, ip: ps.ip, terminating: ps.terminating,
		containers: make(map[string]containerSnapshot, len(ps.containers)),
	}
	for name, cs := range ps.containers {
		s.containers[name] = cs.containerSnapshot
	}
	return s
}

func (ps *podState) takeExecs() execCancels {
	var cancels execCancels
	for _, cs := range ps.containers {
		for id, cancel := range cs.execs {
			cancels = append(cancels, cancel)
			delete(cs.execs, id)
		}
	}
	return cancels
}

func newContainerID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "containerd://" + hex.EncodeToString(b[:])
}
