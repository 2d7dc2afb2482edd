package controllers

import (
	"testing"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

func TestEventNote(t *testing.T) {
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'x'
	}
	tests := map[string]struct {
		event pendingEvent
		want  string
	}{
		"with output": {
			event: pendingEvent{Container: "app", Status: v1alpha1.Unhealthy, ExitCode: 1, Output: "connection refused\n"},
			want:  "health_status: unhealthy (container app, exit code 1): connection refused",
		},
		"no output": {
			event: pendingEvent{Container: "app", Status: v1alpha1.Healthy},
			want:  "health_status: healthy (container app, exit code 0)",
		},
		"no probe changed it": {
			event: pendingEvent{Container: "app", Status: v1alpha1.Unhealthy, Reason: `Container "app" terminated: Error (exit code 1)`},
			want:  `health_status: unhealthy (container app): Container "app" terminated: Error (exit code 1)`,
		},
		"long output is trimmed": {
			event: pendingEvent{Container: "app", Status: v1alpha1.Unhealthy, ExitCode: -1, Output: string(long)},
			want:  "health_status: unhealthy (container app, exit code -1): " + string(long[:eventOutputMaxBytes-3]) + "...",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := eventNote(tc.event); got != tc.want {
				t.Errorf("eventNote() = %q, want %q", got, tc.want)
			}
		})
	}
}
