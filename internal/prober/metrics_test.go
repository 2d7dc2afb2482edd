package prober

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestMetrics: every probe run is counted; only failures to run (exec error, start
// deadline, timeout) count as failed, not non-zero exits; durations are observed; the
// in-flight gauge follows the execs.
func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		p := newTestProber(t, nil, 4)
		p.metrics = newMetrics(reg)
		p.limiter.metrics = p.metrics
		deaf := execFunc(func(ctx context.Context, _ Target, _ []string, _, _ io.Writer, _ func()) (int, error) {
			<-ctx.Done()
			return exitProbeError, ctx.Err()
		})
		failing := execFunc(func(context.Context, Target, []string, io.Writer, io.Writer, func()) (int, error) {
			return exitProbeError, errors.New("boom")
		})
		for _, e := range []Execer{exits(0, ""), exits(1, ""), failing, hangs(""), deaf} {
			p.execer = e
			if _, _, ok := p.probe(t.Context(), testr.New(t), testTarget, testCmd, time.Second); !ok {
				t.Fatal("no result")
			}
		}

		got := map[string]float64{}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			m := f.GetMetric()[0]
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				got[f.GetName()] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				got[f.GetName()] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				got[f.GetName()+"_count"] = float64(m.GetHistogram().GetSampleCount())
				got[f.GetName()+"_sum"] = m.GetHistogram().GetSampleSum()
			}
		}
		want := map[string]float64{
			MetricHealthChecksTotal:               5,
			MetricHealthChecksFailedTotal:         3,
			MetricExecsInFlight:                   0,
			MetricExecStartDuration + "_count":    3, // the three that signalled their start
			MetricExecStartDuration + "_sum":      0,
			MetricProbeDuration + "_count":        5,
			MetricProbeDuration + "_sum":          31, // the timeout (1s) and the start deadline (30s)
			MetricExecSlotWaitDuration + "_count": 5,
			MetricExecSlotWaitDuration + "_sum":   0,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
	})
}

func TestMetricsInFlightGauge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		m, _ := newTestManager(t, hangs(""), func(o *Options) { o.Registerer = reg; o.MaxInFlight = 2 })
		for _, pod := range []string{"a", "b", "c"} {
			spec := testSpec()
			spec.Target.Pod = pod
			spec.Config.Timeout = time.Minute
			m.Ensure(Key{Namespace: "ns", Owner: "hc", Pod: pod}, spec, nil)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		gauge := m.prober.metrics.execsInFlight
		if v := value(t, gauge); v != 2 {
			t.Errorf("%s = %v during probes, want the cap, 2", MetricExecsInFlight, v)
		}
		m.shutdown()
		if v := value(t, gauge); v != 0 {
			t.Errorf("%s = %v after shutdown, want 0", MetricExecsInFlight, v)
		}
	})
}

// TestMetricsRegisterTwice: a second Manager on the same registry (or on the default one)
// shares the collectors instead of panicking.
func TestMetricsRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newMetrics(reg)
	b := newMetrics(reg)
	a.checks.Inc()
	b.checks.Inc()
	if v := value(t, a.checks); v != 2 {
		t.Errorf("shared counter = %v, want 2", v)
	}
	families, err := reg.Gather()
	if err != nil || len(families) != 6 {
		t.Errorf("%d metric families registered (%v), want 6", len(families), err)
	}
	NewManager(Options{Execer: exits(0, "")}) // controller-runtime's registry
	NewManager(Options{Execer: exits(0, "")})
}

// value reads a counter or gauge.
func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}
