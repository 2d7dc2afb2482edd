package bench

import (
	"strings"
	"testing"
)

const sampleMetrics = `# TYPE apiserver_request_total counter
apiserver_request_total{code="200",resource="healthchecks",subresource="status",verb="PATCH"} 7
apiserver_request_total{code="409",resource="healthchecks",subresource="status",verb="PATCH"} 1
apiserver_request_total{code="200",resource="healthchecks",subresource="",verb="GET"} 100
apiserver_request_total{code="201",group="events.k8s.io",resource="events",subresource="",verb="POST"} 4
# TYPE dockprobe_probe_duration_seconds histogram
dockprobe_probe_duration_seconds_bucket{le="0.1"} 3
dockprobe_probe_duration_seconds_bucket{le="+Inf"} 4
dockprobe_probe_duration_seconds_sum 0.5
dockprobe_probe_duration_seconds_count 4
`

func TestMetricSet(t *testing.T) {
	ms, err := parseMetrics(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		match map[string]string
		want  float64
	}{
		{map[string]string{"resource": "healthchecks", "subresource": "status", "verb": "PATCH"}, 8},
		{map[string]string{"resource": "healthchecks", "code": "*"}, 108},
		{map[string]string{"resource": "events"}, 4},
		{map[string]string{"resource": "pods"}, 0},
		{nil, 112},
	} {
		if got := ms.sum(apiserverRequests, tc.match); got != tc.want {
			t.Errorf("sum(%v) = %v, want %v", tc.match, got, tc.want)
		}
	}
	if got := ms.sum("no_such_metric", nil); got != 0 {
		t.Errorf("a missing metric sums to %v, want 0", got)
	}
	if sum, count := ms.histogram("dockprobe_probe_duration_seconds"); sum != 0.5 || count != 4 {
		t.Errorf("histogram = (%v, %v), want (0.5, 4)", sum, count)
	}
}
