package controllers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// fatPod is a pod as the API server returns it, with much the controller never reads.
func fatPod() *corev1.Pod {
	del := metav1.NewTime(t0)
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}}
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "ns", UID: "uid-1", ResourceVersion: "42", Generation: 3,
			Labels:            map[string]string{"app": "web"},
			Annotations:       map[string]string{v1alpha1.DefaultContainerAnnotation: "web", "big": strings.Repeat("x", 10000)},
			DeletionTimestamp: &del,
			OwnerReferences:   []metav1.OwnerReference{{Name: "web-rs", Kind: "ReplicaSet"}},
			ManagedFields:     []metav1.ManagedFieldsEntry{{Manager: "kubelet"}},
		},
		Spec: corev1.PodSpec{
			NodeName: "node-1",
			OS:       &corev1.PodOS{Name: corev1.Linux},
			Containers: []corev1.Container{{
				Name: "web", Image: "nginx", Command: []string{"nginx"},
				Env:       []corev1.EnvVar{{Name: "A", Value: strings.Repeat("y", 1000)}},
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
			}},
			Volumes: []corev1.Volume{{Name: "data"}},
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			PodIP:      "10.0.0.1",
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "web", ContainerID: "containerd://abc", State: running, Ready: true, RestartCount: 2, Image: "nginx", ImageID: "sha256:...",
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}},
			}},
		},
	}
}

func TestTransformPod(t *testing.T) {
	in := fatPod()
	del := metav1.NewTime(t0)
	want := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "ns", UID: "uid-1", ResourceVersion: "42",
			Labels:            map[string]string{"app": "web"},
			Annotations:       map[string]string{v1alpha1.DefaultContainerAnnotation: "web"},
			DeletionTimestamp: &del,
		},
		Spec: corev1.PodSpec{NodeName: "node-1", OS: &corev1.PodOS{Name: corev1.Linux}, Containers: []corev1.Container{{Name: "web"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "web", ContainerID: "containerd://abc", State: in.Status.ContainerStatuses[0].State,
		}}},
	}
	got, err := TransformPod(in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TransformPod() mismatch (-want +got):\n%s", diff)
	}
	again, _ := TransformPod(got)
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("TransformPod() is not idempotent (-once +twice):\n%s", diff)
	}
	fat, _ := json.Marshal(in)
	lean, _ := json.Marshal(got)
	t.Logf("pod JSON: %d bytes -> %d", len(fat), len(lean))
	if s := "not a pod"; func() any { o, _ := TransformPod(s); return o }() != s {
		t.Errorf("TransformPod() changed a non-pod")
	}
	// Planning a target from the lean pod gives what the full pod gives.
	spec := &v1alpha1.HealthCheckSpec{}
	if diff := cmp.Diff(planTargets(spec, []corev1.Pod{*in}), planTargets(spec, []corev1.Pod{*got.(*corev1.Pod)})); diff != "" {
		t.Errorf("plan differs on the lean pod (-full +lean):\n%s", diff)
	}
}

func TestPodChangedPredicate(t *testing.T) {
	tests := map[string]struct {
		change func(*corev1.Pod)
		want   bool
	}{
		"only resourceVersion":    {change: func(p *corev1.Pod) { p.ResourceVersion = "43" }, want: false},
		"only conditions and IPs": {change: func(p *corev1.Pod) { p.Status.Conditions = nil; p.Status.PodIP = "10.0.0.2" }, want: false},
		"restart count only":      {change: func(p *corev1.Pod) { p.Status.ContainerStatuses[0].RestartCount++ }, want: false},
		"labels":                  {change: func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} }, want: true},
		"new container ID":        {change: func(p *corev1.Pod) { p.Status.ContainerStatuses[0].ContainerID = "containerd://def" }, want: true},
		"phase":                   {change: func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, want: true},
		"deletion":                {change: func(p *corev1.Pod) { p.DeletionTimestamp = nil }, want: true},
		"default container":       {change: func(p *corev1.Pod) { p.Annotations[v1alpha1.DefaultContainerAnnotation] = "other" }, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			oldPod, newPod := fatPod(), fatPod()
			tc.change(newPod)
			if got := podChanged.Update(event.UpdateEvent{ObjectOld: oldPod, ObjectNew: newPod}); got != tc.want {
				t.Errorf("podChanged.Update() = %v, want %v", got, tc.want)
			}
		})
	}
}
