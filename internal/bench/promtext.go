package bench

import (
	"fmt"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricSet is one scrape of a Prometheus text endpoint.
type metricSet map[string]*dto.MetricFamily

func parseMetrics(r io.Reader) (metricSet, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing metrics: %w", err)
	}
	return metricSet(fams), nil
}

// sum adds the values of every series of the counter or gauge name whose labels include
// all of match; a label matched to "*" only has to be present. A missing family is 0.
func (s metricSet) sum(name string, match map[string]string) float64 {
	fam := s[name]
	if fam == nil {
		return 0
	}
	total := 0.0
	for _, m := range fam.GetMetric() {
		if !labelsMatch(m.GetLabel(), match) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

// histogram returns the sum and count of every series of the histogram name.
func (s metricSet) histogram(name string) (sum, count float64) {
	fam := s[name]
	if fam == nil {
		return 0, 0
	}
	for _, m := range fam.GetMetric() {
		if h := m.GetHistogram(); h != nil {
			sum += h.GetSampleSum()
			count += float64(h.GetSampleCount())
		}
	}
	return sum, count
}

func labelsMatch(labels []*dto.LabelPair, match map[string]string) bool {
	for k, want := range match {
		found := false
		for _, l := range labels {
			if l.GetName() == k && (want == "*" || l.GetValue() == want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
