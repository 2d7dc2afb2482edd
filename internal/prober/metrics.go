package prober

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metric names, after Docker's engine_daemon_health_checks_total and
// engine_daemon_health_checks_failed_total.
const (
	MetricHealthChecksTotal       = "dockprobe_health_checks_total"
	MetricHealthChecksFailedTotal = "dockprobe_health_checks_failed_total"
	MetricExecStartDuration       = "dockprobe_exec_start_duration_seconds"
	MetricProbeDuration           = "dockprobe_probe_duration_seconds"
	MetricExecsInFlight           = "dockprobe_execs_in_flight"
	MetricExecSlotWaitDuration    = "dockprobe_exec_slot_wait_seconds"
)

// durationBuckets span a fast local exec (ms) to the default timeout and start deadline (30s).
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60}

// metrics are the collectors one Manager writes. They are registered with the Manager's
// Registerer; when a collector of the same name is already there (a second Manager in the
// same process, as in tests), the registered one is shared instead, so registering never
// panics and every Manager counts into what is scraped.
type metrics struct {
	checks        prometheus.Counter
	checksFailed  prometheus.Counter
	execStart     prometheus.Observer
	probeDuration prometheus.Observer
	slotWait      prometheus.Observer
	execsInFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = crmetrics.Registry
	}
	return &metrics{
		checks: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricHealthChecksTotal,
			Help: "Number of health check probes run.",
		})),
		checksFailed: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricHealthChecksFailedTotal,
			Help: "Number of health check probes that failed to run (exec error, exec start deadline or probe timeout); a non-zero exit code is not counted.",
		})),
		execStart: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricExecStartDuration,
			Help:    "Time from sending a probe's exec to the exec stream being established.",
			Buckets: durationBuckets,
		})),
		probeDuration: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricProbeDuration,
			Help:    "Duration of health check probes, from exec request to result (excluding the wait for an exec slot).",
			Buckets: durationBuckets,
		})),
		slotWait: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricExecSlotWaitDuration,
			Help:    "Time probes waited for a slot under the cap on execs in flight.",
			Buckets: durationBuckets,
		})),
		execsInFlight: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricExecsInFlight,
			Help: "Number of probe execs in flight (capped by the operator's max in flight).",
		})),
	}
}

// register registers c, or returns the collector already registered under the same
// description. A conflicting, differently-typed collector leaves c unregistered but usable.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	return c
}
