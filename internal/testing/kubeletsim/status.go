package kubeletsim

import (
	"crypto/sha256"
	"encoding/hex"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// desiredStatus is the status a kubelet running snap would report for pod. It starts from
// the pod's current status so that fields the simulator does not own survive (qosClass,
// PodScheduled and other conditions), and it keeps a condition's lastTransitionTime while
// its status does not change, so that computing it twice from the same state gives the
// same answer and no write is needed.
func desiredStatus(pod *corev1.Pod, snap podSnapshot, nodeIP string, now metav1.Time) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	st.HostIP, st.HostIPs = nodeIP, []corev1.HostIP{{IP: nodeIP}}
	st.PodIP, st.PodIPs = snap.ip, []corev1.PodIP{{IP: snap.ip}}
	if st.StartTime == nil {
		startTime := snap.startTime
		st.StartTime = &startTime
	}

	allReady, anyRunning, anyFailed := true, false, false
	st.InitContainerStatuses = make([]corev1.ContainerStatus, 0, len(pod.Spec.InitContainers))
	for _, c := range pod.Spec.InitContainers {
		cs := containerStatus(c, snap.containers[c.Name])
		if !cs.Ready && !snap.containers[c.Name].init {
			allReady = false
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	st.ContainerStatuses = make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		cs := containerStatus(c, snap.containers[c.Name])
		allReady = allReady && cs.Ready
		anyRunning = anyRunning || cs.State.Running != nil
		anyFailed = anyFailed || (cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	if len(st.InitContainerStatuses) == 0 {
		st.InitContainerStatuses = nil
	}

	// A kubelet moves a deleted pod to a terminal phase once its containers are gone; until
	// then (and with a container stopped but not deleted) the pod is Running.
	st.Phase = corev1.PodRunning
	if snap.terminating && !anyRunning {
		st.Phase = corev1.PodSucceeded
		if anyFailed {
			st.Phase = corev1.PodFailed
		}
	}

	ready := corev1.ConditionFalse
	if allReady {
		ready = corev1.ConditionTrue
	}
	for _, c := range []struct {
		t      corev1.PodConditionType
		status corev1.ConditionStatus
	}{
		{corev1.PodReadyToStartContainers, corev1.ConditionTrue},
		{corev1.PodInitialized, corev1.ConditionTrue},
		{corev1.ContainersReady, ready},
		{corev1.PodReady, ready},
	} {
		st.Conditions = setCondition(st.Conditions, c.t, c.status, now)
	}
	return st
}

func containerStatus(c corev1.Container, s containerSnapshot) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{
		Name:         c.Name,
		Image:        c.Image,
		ImageID:      fakeImageID(c.Image),
		ContainerID:  s.id,
		RestartCount: s.restartCount,
	}
	if s.lastTerminated != nil {
		cs.LastTerminationState.Terminated = s.lastTerminated.DeepCopy()
	}
	started := s.running
	cs.Started = &started
	if s.running {
		cs.Ready = true
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: s.startedAt}
		return cs
	}
	// A kubelet reports an init container that ran to completion as ready.
	cs.Ready = s.init && s.exitCode == 0
	cs.State.Terminated = &corev1.ContainerStateTerminated{
		ExitCode: s.exitCode, Reason: s.reason, StartedAt: s.startedAt, FinishedAt: s.finishedAt,
		ContainerID: s.id,
	}
	return cs
}

func setCondition(conds []corev1.PodCondition, t corev1.PodConditionType, status corev1.ConditionStatus, now metav1.Time) []corev1.PodCondition {
	for i := range conds {
		if conds[i].Type != t {
			continue
		}
		if conds[i].Status != status {
			conds[i].Status, conds[i].LastTransitionTime = status, now
		}
		return conds
	}
	return append(conds, corev1.PodCondition{Type: t, Status: status, LastTransitionTime: now})
}

// fakeImageID stands in for the digest a runtime reports; stable per image name.
func fakeImageID(image string) string {
	sum := sha256.Sum256([]byte(image))
	return image + "@sha256:" + hex.EncodeToString(sum[:])
}
