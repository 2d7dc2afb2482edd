package controllers

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// MetricTargets is the gauge of targets per HealthCheck and status.
const MetricTargets = "dockprobe_targets"

// targetMetrics owns the dockprobe_targets gauge (prometheus collectors lock internally).
type targetMetrics struct {
	targets *prometheus.GaugeVec
}

// newTargetMetrics registers the gauge with reg, or shares the one already registered
// there (a second manager in one process, as in tests).
func newTargetMetrics(reg prometheus.Registerer) (*targetMetrics, error) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: MetricTargets,
		Help: "Number of targets (selected pods) of a HealthCheck, by health status.",
	}, []string{"namespace", "healthcheck", "status"})
	if err := reg.Register(g); err != nil {
		are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
		if !ok {
			return nil, err
		}
		existing, ok := are.ExistingCollector.(*prometheus.GaugeVec)
		if !ok {
			return nil, err
		}
		g = existing
	}
	return &targetMetrics{targets: g}, nil
}

func (m *targetMetrics) set(namespace, name string, st *v1alpha1.HealthCheckStatus) {
	m.targets.WithLabelValues(namespace, name, string(v1alpha1.Healthy)).Set(float64(st.Healthy))
	m.targets.WithLabelValues(namespace, name, string(v1alpha1.Unhealthy)).Set(float64(st.Unhealthy))
	m.targets.WithLabelValues(namespace, name, string(v1alpha1.Starting)).Set(float64(st.Starting))
}

func (m *targetMetrics) delete(namespace, name string) {
	m.targets.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "healthcheck": name})
}
