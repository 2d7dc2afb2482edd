package controllers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

type podOpt func(*corev1.Pod)

func newPod(name string, opts ...podOpt) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "sidecar"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, ContainerID: "containerd://" + name + "-" + c.Name,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}},
		})
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func withPhase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func withAnnotation(c string) podOpt {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{v1alpha1.DefaultContainerAnnotation: c} }
}
func withState(container string, s corev1.ContainerState) podOpt {
	return func(p *corev1.Pod) {
		for i := range p.Status.ContainerStatuses {
			if p.Status.ContainerStatuses[i].Name == container {
				p.Status.ContainerStatuses[i].State = s
			}
		}
	}
}
func withoutStatuses() podOpt { return func(p *corev1.Pod) { p.Status.ContainerStatuses = nil } }
func deleting() podOpt {
	return func(p *corev1.Pod) { now := metav1.NewTime(t0); p.DeletionTimestamp = &now }
}
func windows() podOpt { return func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: corev1.Windows} } }

func probed(pod, container string) targetPlan {
	return targetPlan{Pod: pod, PodUID: types.UID("uid-" + pod), Container: container, Probe: true, Target: prober.Target{
		Namespace: "ns", Pod: pod, Container: container, ContainerID: "containerd://" + pod + "-" + container, StartedAt: t0,
	}}
}

func TestTargetContainer(t *testing.T) {
	tests := map[string]struct {
		spec v1alpha1.HealthCheckSpec
		pod  corev1.Pod
		want string
	}{
		"first container by default": {
			pod: newPod("p"), want: "app",
		},
		"annotation": {
			pod: newPod("p", withAnnotation("sidecar")), want: "sidecar",
		},
		"annotation naming no container is ignored, as kubectl does": {
			pod: newPod("p", withAnnotation("nope")), want: "app",
		},
		"spec.container wins over the annotation": {
			spec: v1alpha1.HealthCheckSpec{Container: "app"}, pod: newPod("p", withAnnotation("sidecar")), want: "app",
		},
		"spec.container is used even when the pod lacks it": {
			spec: v1alpha1.HealthCheckSpec{Container: "db"}, pod: newPod("p"), want: "db",
		},
		"no containers": {
			pod: corev1.Pod{}, want: "",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := targetContainer(&tc.spec, &tc.pod); got != tc.want {
				t.Errorf("targetContainer() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlanTargets(t *testing.T) {
	notRunning := func(pod, container, reason, containerID string) targetPlan {
		return targetPlan{Pod: pod, PodUID: types.UID("uid-" + pod), Container: container, Reason: reason, Target: prober.Target{ContainerID: containerID}}
	}
	tests := map[string]struct {
		spec v1alpha1.HealthCheckSpec
		pods []corev1.Pod
		want []targetPlan
	}{
		"running pods are probed, sorted by name": {
			pods: []corev1.Pod{newPod("b"), newPod("a")},
			want: []targetPlan{probed("a", "app"), probed("b", "app")},
		},
		"default-container annotation": {
			pods: []corev1.Pod{newPod("a", withAnnotation("sidecar"))},
			want: []targetPlan{probed("a", "sidecar")},
		},
		"windows pods are flagged for cmd /S /C": {
			pods: []corev1.Pod{newPod("a", windows())},
			want: []targetPlan{func() targetPlan { p := probed("a", "app"); p.Target.Windows = true; return p }()},
		},
		"terminating and terminated pods are not targets": {
			pods: []corev1.Pod{newPod("a", deleting()), newPod("b", withPhase(corev1.PodSucceeded)), newPod("c", withPhase(corev1.PodFailed))},
			want: []targetPlan{},
		},
		"pending pod: target, not probed": {
			pods: []corev1.Pod{newPod("a", withPhase(corev1.PodPending), withoutStatuses())},
			want: []targetPlan{notRunning("a", "app", "Pod is Pending", "")},
		},
		"no phase yet reads as Pending": {
			pods: []corev1.Pod{newPod("a", withPhase(""), withoutStatuses())},
			want: []targetPlan{notRunning("a", "app", "Pod is Pending", "")},
		},
		"running pod whose container has no status yet": {
			pods: []corev1.Pod{newPod("a", withoutStatuses())},
			want: []targetPlan{notRunning("a", "app", `Container "app" has no status yet`, "")},
		},
		"terminated container": {
			pods: []corev1.Pod{newPod("a", withState("app", corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}))},
			want: []targetPlan{notRunning("a", "app", `Container "app" terminated: Error (exit code 137)`, "containerd://a-app")},
		},
		"waiting container": {
			pods: []corev1.Pod{newPod("a", withState("app", corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}))},
			want: []targetPlan{notRunning("a", "app", `Container "app" is waiting: CrashLoopBackOff`, "containerd://a-app")},
		},
		"only the target container matters": {
			pods: []corev1.Pod{newPod("a", withState("sidecar", corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}))},
			want: []targetPlan{probed("a", "app")},
		},
		"missing container": {
			spec: v1alpha1.HealthCheckSpec{Container: "db"},
			pods: []corev1.Pod{newPod("a")},
			want: []targetPlan{{Pod: "a", PodUID: "uid-a", Container: "db", Missing: true, Reason: `Pod has no container "db"`}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := planTargets(&tc.spec, tc.pods)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("planTargets() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
