package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// TransformPod strips a Pod to the fields the controller reads, before it enters the
// cache: name, namespace, uid, labels, the default-container annotation, resourceVersion,
// deletionTimestamp, the containers' names, spec.os, spec.nodeName, status.phase and the
// containers' name, containerID and state. A cached pod then costs a few hundred bytes
// instead of kilobytes. Anything else is returned unchanged; transforming twice is harmless.
func TransformPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	lean := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              pod.Name,
			Namespace:         pod.Namespace,
			UID:               pod.UID,
			ResourceVersion:   pod.ResourceVersion,
			Labels:            pod.Labels,
			DeletionTimestamp: pod.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{
			NodeName: pod.Spec.NodeName,
			OS:       pod.Spec.OS,
		},
		Status: corev1.PodStatus{Phase: pod.Status.Phase},
	}
	if c, ok := pod.Annotations[v1alpha1.DefaultContainerAnnotation]; ok {
		lean.Annotations = map[string]string{v1alpha1.DefaultContainerAnnotation: c}
	}
	if n := len(pod.Spec.Containers); n > 0 {
		lean.Spec.Containers = make([]corev1.Container, n)
		for i := range pod.Spec.Containers {
			lean.Spec.Containers[i].Name = pod.Spec.Containers[i].Name
		}
	}
	if n := len(pod.Status.ContainerStatuses); n > 0 {
		lean.Status.ContainerStatuses = make([]corev1.ContainerStatus, n)
		for i, cs := range pod.Status.ContainerStatuses {
			lean.Status.ContainerStatuses[i] = corev1.ContainerStatus{Name: cs.Name, ContainerID: cs.ContainerID, State: cs.State}
		}
	}
	return lean, nil
}

// podChanged lets through pod updates that change what the controller reads. Most
// kubelet status updates (conditions, readiness, IPs) differ only in fields the cache
// transform strips, and in resourceVersion: they are dropped here.
var podChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		a, _ := TransformPod(e.ObjectOld)
		b, _ := TransformPod(e.ObjectNew)
		oldPod, ok1 := a.(*corev1.Pod)
		newPod, ok2 := b.(*corev1.Pod)
		if !ok1 || !ok2 {
			return true
		}
		// TransformPod returned new objects: changing them changes nothing in the cache.
		oldPod.ResourceVersion, newPod.ResourceVersion = "", ""
		return !equality.Semantic.DeepEqual(oldPod, newPod)
	},
}
