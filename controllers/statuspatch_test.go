package controllers

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

func TestStatusMergePatchNamesEveryField(t *testing.T) {
	tests := map[string]struct {
		status v1alpha1.HealthCheckStatus
		want   map[string]any
	}{
		"empty fields are null, so a merge patch clears them": {
			status: v1alpha1.HealthCheckStatus{ObservedGeneration: 2, Status: v1alpha1.OverallNone, Ready: "0/0"},
			want: map[string]any{"status": map[string]any{
				"observedGeneration": 2.0, "status": "none", "ready": "0/0",
				"healthy": 0.0, "unhealthy": 0.0, "starting": 0.0, "total": 0.0,
				"targets": nil, "conditions": nil,
			}},
		},
		"set fields are written whole": {
			status: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallHealthy, Ready: "1/1", Healthy: 1, Total: 1,
				Targets: []v1alpha1.TargetStatus{{Pod: "a", Container: "app", Status: v1alpha1.Healthy}}},
			want: map[string]any{"status": map[string]any{
				"observedGeneration": nil, "status": "healthy", "ready": "1/1",
				"healthy": 1.0, "unhealthy": 0.0, "starting": 0.0, "total": 1.0,
				"targets":    []any{map[string]any{"pod": "a", "container": "app", "status": "healthy", "failingStreak": 0.0}},
				"conditions": nil,
			}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body, err := statusMergePatch(&tc.status)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("statusMergePatch() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
