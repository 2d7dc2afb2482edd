package prober

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCappedBuffer(t *testing.T) {
	tests := map[string]struct {
		writes []string
		want   string
	}{
		"empty":                     {writes: nil, want: ""},
		"short":                     {writes: []string{"OK\n"}, want: "OK\n"},
		"exactly the cap":           {writes: []string{strings.Repeat("a", maxOutputLen)}, want: strings.Repeat("a", maxOutputLen)},
		"one byte over":             {writes: []string{strings.Repeat("a", maxOutputLen+1)}, want: strings.Repeat("a", maxOutputLen) + "..."},
		"cap reached over writes":   {writes: []string{strings.Repeat("a", 4000), strings.Repeat("b", 200)}, want: strings.Repeat("a", 4000) + strings.Repeat("b", 96) + "..."},
		"write after the cap drops": {writes: []string{strings.Repeat("a", maxOutputLen), "z"}, want: strings.Repeat("a", maxOutputLen) + "..."},
		"empty write after the cap": {writes: []string{strings.Repeat("a", maxOutputLen), ""}, want: strings.Repeat("a", maxOutputLen)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b cappedBuffer
			for _, w := range tc.writes {
				n, err := b.Write([]byte(w))
				if err != nil || n != len(w) {
					t.Fatalf("Write(%d bytes) = %d, %v; want %d, nil (never fail the writer)", len(w), n, err, len(w))
				}
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("String() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCappedBufferConcurrentWriters is stdout and stderr copied by two goroutines into one
// buffer, read meanwhile (as a timed-out probe does); run with -race.
func TestCappedBufferConcurrentWriters(t *testing.T) {
	var b cappedBuffer
	var wg sync.WaitGroup
	for _, c := range []string{"o", "e"} {
		wg.Go(func() {
			for range 3000 {
				_, _ = b.Write([]byte(c))
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			_ = b.String()
		}
	})
	wg.Wait()
	got := b.String()
	if want := maxOutputLen + len("..."); len(got) != want {
		t.Fatalf("len = %d, want %d", len(got), want)
	}
	if n := strings.Count(got[:maxOutputLen], "o") + strings.Count(got[:maxOutputLen], "e"); n != maxOutputLen {
		t.Errorf("%d of the kept bytes came from the writers, want all %d (lost or torn writes)", n, maxOutputLen)
	}
}
