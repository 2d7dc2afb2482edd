package controllers

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// healthChecksForPod maps a pod event to the HealthChecks of its namespace whose selector
// matches the pod's labels (for an update, the old and the new labels are both mapped, so
// a pod that stops matching reaches the HealthCheck that selected it).
func (r *reconciler) healthChecksForPod(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.HealthCheckList
	if err := r.client.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing HealthChecks for a pod event", "pod", client.ObjectKeyFromObject(obj))
		return nil
	}
	podLabels := labels.Set(obj.GetLabels())
	var reqs []reconcile.Request
	for i := range list.Items {
		hc := &list.Items[i]
		sel, err := metav1.LabelSelectorAsSelector(&hc.Spec.Selector)
		if err != nil || !sel.Matches(podLabels) {
			continue
		}
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: hc.Namespace, Name: hc.Name}})
	}
	return reqs
}
