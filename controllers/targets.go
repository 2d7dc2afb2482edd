package controllers

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
)

// targetPlan is what the reconciler does with one selected pod: run a monitor on its
// container, or not and why.
type targetPlan struct {
	Pod       string
	PodUID    types.UID
	Container string
	// Probe is true when a monitor must run: the pod is Running and the container is
	// running. Target is then the container instance to probe.
	Probe  bool
	Target prober.Target
	// Reason says why the container is not probed, when Probe is false.
	Reason string
	// Missing is true when the pod has no container of that name: it can never be probed.
	Missing bool
}

// planTargets lists, sorted by pod name, the targets of a HealthCheck among the pods its
// selector matched. Pods that are terminating or have terminated (Succeeded, Failed) are
// not targets: their monitors stop and they leave the status.
func planTargets(spec *v1alpha1.HealthCheckSpec, pods []corev1.Pod) []targetPlan {
	plans := make([]targetPlan, 0, len(pods))
	for i := range pods {
		pod := &pods[i]
		if !isTarget(pod) {
			continue
		}
		plans = append(plans, planTarget(spec, pod))
	}
	slices.SortFunc(plans, func(a, b targetPlan) int { return strings.Compare(a.Pod, b.Pod) })
	return plans
}

// isTarget reports whether a selected pod is checked at all.
func isTarget(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil {
		return false
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		return false
	}
	return true
}

func planTarget(spec *v1alpha1.HealthCheckSpec, pod *corev1.Pod) targetPlan {
	p := targetPlan{Pod: pod.Name, PodUID: pod.UID, Container: targetContainer(spec, pod)}
	if !hasContainer(pod, p.Container) {
		p.Missing = true
		if p.Container == "" {
			p.Reason = "Pod has no containers"
		} else {
			p.Reason = fmt.Sprintf("Pod has no container %q", p.Container)
		}
		return p
	}
	if pod.Status.Phase != corev1.PodRunning {
		phase := pod.Status.Phase
		if phase == "" {
			phase = corev1.PodPending
		}
		p.Reason = fmt.Sprintf("Pod is %s", phase)
		return p
	}
	cs := containerStatus(pod, p.Container)
	switch {
	case cs == nil:
		p.Reason = fmt.Sprintf("Container %q has no status yet", p.Container)
	case cs.State.Running != nil && cs.ContainerID != "":
		p.Probe = true
		p.Target = prober.Target{
			Namespace:   pod.Namespace,
			Pod:         pod.Name,
			Container:   p.Container,
			ContainerID: cs.ContainerID,
			StartedAt:   cs.State.Running.StartedAt.Time,
			Windows:     pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows,
		}
	case cs.State.Terminated != nil:
		t := cs.State.Terminated
		p.Reason = fmt.Sprintf("Container %q terminated", p.Container)
		if t.Reason != "" {
			p.Reason += ": " + t.Reason
		}
		p.Reason += fmt.Sprintf(" (exit code %d)", t.ExitCode)
		p.Target.ContainerID = cs.ContainerID
	case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
		p.Reason = fmt.Sprintf("Container %q is waiting: %s", p.Container, cs.State.Waiting.Reason)
		p.Target.ContainerID = cs.ContainerID
	default:
		p.Reason = fmt.Sprintf("Container %q is not running", p.Container)
		p.Target.ContainerID = cs.ContainerID
	}
	return p
}

// targetContainer is the checked container's name: spec.container, else the pod's
// kubectl.kubernetes.io/default-container annotation when it names one of its containers
// (kubectl ignores it otherwise too), else the first container.
func targetContainer(spec *v1alpha1.HealthCheckSpec, pod *corev1.Pod) string {
	if spec.Container != "" {
		return spec.Container
	}
	if name := pod.Annotations[v1alpha1.DefaultContainerAnnotation]; name != "" && hasContainer(pod, name) {
		return name
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Name
	}
	return ""
}

func hasContainer(pod *corev1.Pod, name string) bool {
	if name == "" {
		return false
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return true
		}
	}
	return false
}

func containerStatus(pod *corev1.Pod, name string) *corev1.ContainerStatus {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == name {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	return nil
}
