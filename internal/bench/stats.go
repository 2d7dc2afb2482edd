package bench

import (
	"slices"
	"time"
)

// Latencies summarises a set of durations.
type Latencies struct {
	N             int
	P50, P99, Max time.Duration
}

// summarize sorts ds in place and returns its percentiles (nearest rank).
func summarize(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	slices.Sort(ds)
	return Latencies{N: len(ds), P50: percentile(ds, 50), P99: percentile(ds, 99), Max: ds[len(ds)-1]}
}

// percentile of sorted ds, nearest-rank: the smallest value with at least p% of the
// values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p/100*float64(len(sorted)) + 0.999999)
	return sorted[min(max(rank, 1), len(sorted))-1]
}
