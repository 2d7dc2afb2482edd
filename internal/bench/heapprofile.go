package bench

import (
	"fmt"
	"strings"

	"github.com/google/pprof/profile"
)

// heapCategories attribute the operator's heap to what holds it: a sample belongs to the
// first category one of whose patterns appears anywhere in its stack, so the order goes
// from the most specific to the most general.
var heapCategories = []struct{ name, pattern string }{
	{"per-monitor loggers (logr WithValues)", "github.com/go-logr/logr.Logger.WithValues"},
	{"cached pods (controllers.TransformPod)", "dockprobe/controllers.TransformPod"},
	{"monitors (internal/prober)", "dockprobe/internal/prober."},
	{"store, status and events (controllers)", "dockprobe/controllers."},
	{"informer caches and decoding (client-go, apimachinery)", "k8s.io/"},
}

const otherHeap = "other"

// heapBreakdown is in-use heap bytes by category.
type heapBreakdown map[string]float64

// HeapShare is one category's part of the heap that targets added.
type HeapShare struct {
	Category  string
	PerTarget float64 // bytes
}

// breakdownHeap reads a heap profile (as pprof's heap endpoint serves it).
func breakdownHeap(data []byte) (heapBreakdown, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("parsing a heap profile: %w", err)
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "inuse_space" {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("heap profile without inuse_space")
	}
	out := heapBreakdown{}
	for _, s := range p.Sample {
		out[categorize(s)] += float64(s.Value[idx])
	}
	return out, nil
}

func categorize(s *profile.Sample) string {
	for _, c := range heapCategories {
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function != nil && strings.Contains(line.Function.Name, c.pattern) {
					return c.name
				}
			}
		}
	}
	return otherHeap
}

// perTarget is (after - before) / targets by category, in heapCategories' order.
func (after heapBreakdown) perTarget(before heapBreakdown, targets int) []HeapShare {
	var out []HeapShare
	for _, name := range append(categoryNames(), otherHeap) {
		out = append(out, HeapShare{Category: name, PerTarget: ratio(after[name]-before[name], float64(targets))})
	}
	return out
}

func categoryNames() []string {
	names := make([]string, len(heapCategories))
	for i, c := range heapCategories {
		names[i] = c.name
	}
	return names
}
