package bench

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, ms(i))
	}
	got := summarize(ds)
	want := Latencies{N: 100, P50: ms(50), P99: ms(99), Max: ms(100)}
	if got != want {
		t.Errorf("summarize(1..100 ms) = %+v, want %+v", got, want)
	}
	if got := summarize(nil); got != (Latencies{}) {
		t.Errorf("summarize(nil) = %+v, want zero", got)
	}
	if got := summarize([]time.Duration{ms(7)}); got.P50 != ms(7) || got.P99 != ms(7) {
		t.Errorf("summarize of one value = %+v", got)
	}
}
