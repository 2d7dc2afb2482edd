package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
)

// +kubebuilder:rbac:groups=monitoring.dockprobe.dev,resources=healthchecks,verbs=get;list;watch
// +kubebuilder:rbac:groups=monitoring.dockprobe.dev,resources=healthchecks/status,verbs=get;patch;update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods/exec,verbs=get;create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// reconciler makes the monitors of one HealthCheck match its spec and selected pods, and
// writes what they found. It reads only from the manager's cache.
type reconciler struct {
	client   client.Client
	probes   *prober.Manager
	store    *healthStore
	recorder events.EventRecorder
	metrics  *targetMetrics
	clock    clock.PassiveClock
	policy   flushPolicy
	maxBytes int
}

var _ reconcile.Reconciler = (*reconciler)(nil)

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	owner := req.NamespacedName
	pending := r.store.begin(owner)

	var hc v1alpha1.HealthCheck
	if err := r.client.Get(ctx, owner, &hc); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(owner)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if hc.DeletionTimestamp != nil {
		r.forget(owner)
		return ctrl.Result{}, nil
	}
	if !r.store.adopt(owner, hc.UID) {
		log.V(1).Info("HealthCheck was replaced by a new object of the same name")
		r.forget(owner)
		r.store.adopt(owner, hc.UID)
		pending = nil
	}
	emitEvents(r.recorder, &hc, pending)

	previous, lastWrite := r.store.written(owner)
	if previous == nil {
		previous = hc.Status.DeepCopy()
	}
	now := r.clock.Now()
	status, err := r.desiredStatus(ctx, &hc, previous.Conditions, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.metrics.set(owner.Namespace, owner.Name, &status)
	return r.flush(ctx, &hc, previous, &status, lastWrite, now)
}

// desiredStatus brings the HealthCheck's monitors in line with its spec and pods, and
// computes its status from their health, within the byte budget.
func (r *reconciler) desiredStatus(ctx context.Context, hc *v1alpha1.HealthCheck, conditions []metav1.Condition, now time.Time) (v1alpha1.HealthCheckStatus, error) {
	in := statusInput{Generation: hc.Generation, Disabled: hc.Spec.Disabled(), PreviousConditions: conditions, Now: now}
	selector, err := metav1.LabelSelectorAsSelector(&hc.Spec.Selector)
	if err != nil {
		in.SelectorError = err
	}
	if in.Disabled || in.SelectorError != nil {
		r.probes.StopOwner(hc.Namespace, hc.Name)
		r.store.forgetTargets(types.NamespacedName{Namespace: hc.Namespace, Name: hc.Name})
	} else {
		var pods corev1.PodList
		// The pods are only read: no copy of the cache's objects.
		if err := r.client.List(ctx, &pods, client.InNamespace(hc.Namespace), client.MatchingLabelsSelector{Selector: selector}, client.UnsafeDisableDeepCopy); err != nil {
			return v1alpha1.HealthCheckStatus{}, err
		}
		in.Targets = r.syncMonitors(hc, planTargets(&hc.Spec, pods.Items))
	}
	status := computeStatus(in)
	if size, fits := fitStatus(&status, r.maxBytes); !fits {
		ctrl.LoggerFrom(ctx).Info("Status exceeds its byte budget even with outputs trimmed", "bytes", size, "budget", r.maxBytes, "targets", status.Total)
	}
	return status, nil
}

// flush writes the status when it differs from the one last written (or observed, before
// the first write) and the flush policy allows it now; otherwise it comes back later.
func (r *reconciler) flush(ctx context.Context, hc *v1alpha1.HealthCheck, previous, status *v1alpha1.HealthCheckStatus, lastWrite, now time.Time) (ctrl.Result, error) {
	owner := types.NamespacedName{Namespace: hc.Namespace, Name: hc.Name}
	kind := classifyChange(previous, status)
	write, wait := r.policy.decide(now, lastWrite, kind)
	if !write {
		if wait > 0 {
			r.store.deferUntil(owner, now.Add(wait))
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		return ctrl.Result{}, nil
	}
	if err := r.patchStatus(ctx, hc, status); err != nil {
		if apierrors.IsNotFound(err) || ctx.Err() != nil {
			// Deleted meanwhile, or the operator is stopping: nothing to retry.
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("writing the status: %w", err)
	}
	r.store.setWritten(owner, status, now)
	ctrl.LoggerFrom(ctx).V(1).Info("Status written", "change", kind, "status", status.Status, "ready", status.Ready)
	return ctrl.Result{}, nil
}

// syncMonitors starts, replaces or stops the monitor of each planned target, stops those
// of pods that are no longer targets, and returns the targets' status, sorted by pod.
func (r *reconciler) syncMonitors(hc *v1alpha1.HealthCheck, plans []targetPlan) []v1alpha1.TargetStatus {
	owner := types.NamespacedName{Namespace: hc.Namespace, Name: hc.Name}
	cfg := prober.ConfigFromSpec(&hc.Spec)
	written := map[string]*v1alpha1.TargetStatus{}
	for i := range hc.Status.Targets {
		written[hc.Status.Targets[i].Pod] = &hc.Status.Targets[i]
	}
	sameGeneration := hc.Status.ObservedGeneration == hc.Generation

	targets := make([]v1alpha1.TargetStatus, 0, len(plans))
	planned := make(map[string]bool, len(plans))
	for _, p := range plans {
		planned[p.Pod] = true
		key := prober.Key{Namespace: hc.Namespace, Owner: hc.Name, Pod: p.Pod}
		podUID, memory := r.store.record(owner, p.Pod)
		if podUID != "" && podUID != p.PodUID {
			// A new pod with the name of an old one: nothing of the old one carries over.
			r.probes.Stop(key)
			r.store.forget(owner, p.Pod)
			memory = nil
			delete(written, p.Pod)
		}
		r.store.track(owner, p.Pod, p.PodUID)

		var known *knownHealth
		if p.Probe {
			r.probes.Ensure(key, prober.Spec{Config: cfg, Target: p.Target}, seedFor(p, memory, written[p.Pod], sameGeneration))
			if h, t, ok := r.probes.Snapshot(key); ok {
				known = &knownHealth{ContainerID: t.ContainerID, Health: h}
			} else {
				// The probe engine is shutting down (Ensure is then a no-op): report what
				// was known rather than a fresh start.
				known = memory
			}
		} else {
			r.probes.Stop(key)
			var turned bool
			known, turned = r.store.markStopped(owner, p.Pod)
			if known == nil {
				if w := written[p.Pod]; w != nil && w.Container == p.Container && w.Status != v1alpha1.Starting {
					// Operator restart with the container down: keep what was written.
					known = &knownHealth{ContainerID: w.ContainerID, Health: healthFromStatus(w)}
					r.store.remember(owner, p.Pod, *known)
				}
			}
			if turned {
				emitEvents(r.recorder, hc, []pendingEvent{{
					Pod: p.Pod, Container: p.Container, PodUID: p.PodUID,
					Status: v1alpha1.Unhealthy, Reason: p.Reason,
				}})
			}
		}
		targets = append(targets, targetStatus(p, known))
	}
	for _, pod := range r.store.pods(owner) {
		if !planned[pod] {
			r.probes.Stop(prober.Key{Namespace: hc.Namespace, Owner: hc.Name, Pod: pod})
			r.store.forget(owner, pod)
		}
	}
	return targets
}

// forget stops everything of a HealthCheck that is gone.
func (r *reconciler) forget(owner types.NamespacedName) {
	r.probes.StopOwner(owner.Namespace, owner.Name)
	r.store.forgetOwner(owner)
	r.metrics.delete(owner.Namespace, owner.Name)
}
