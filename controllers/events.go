package controllers

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// Event reasons, one per status a check can change to.
const (
	EventReasonHealthy   = "Healthy"
	EventReasonUnhealthy = "Unhealthy"
	// eventAction is the events.k8s.io action of every Event this package reports.
	eventAction = "HealthCheck"
	// eventOutputMaxBytes bounds the probe output quoted in an Event.
	eventOutputMaxBytes = 256
)

// eventNote is Docker's event text, health_status: <status>, with what the check printed
// (or why the container is no longer checked).
func eventNote(e pendingEvent) string {
	if e.Reason != "" {
		return fmt.Sprintf("health_status: %s (container %s): %s", e.Status, e.Container, e.Reason)
	}
	note := fmt.Sprintf("health_status: %s (container %s, exit code %d)", e.Status, e.Container, e.ExitCode)
	if out := strings.TrimSpace(e.Output); out != "" {
		note += ": " + shorten(out, eventOutputMaxBytes)
	}
	return note
}

func eventTypeReason(s v1alpha1.HealthStatus) (string, string) {
	if s == v1alpha1.Healthy {
		return corev1.EventTypeNormal, EventReasonHealthy
	}
	return corev1.EventTypeWarning, EventReasonUnhealthy
}

// emitEvents reports each status change on the Pod and on the HealthCheck (which names
// the pod as the related object). The recorder queues them; nothing here waits on the API.
func emitEvents(rec events.EventRecorder, hc *v1alpha1.HealthCheck, pending []pendingEvent) {
	for _, e := range pending {
		eventType, reason := eventTypeReason(e.Status)
		note := eventNote(e)
		pod := podReference(hc.Namespace, e.Pod, e.PodUID)
		rec.Eventf(pod, hc, eventType, reason, eventAction, "%s", note)
		rec.Eventf(hc, pod, eventType, reason, eventAction, "%s", "Pod "+e.Pod+": "+note)
	}
}

func podReference(namespace, name string, uid types.UID) *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: namespace, Name: name, UID: uid}
}
