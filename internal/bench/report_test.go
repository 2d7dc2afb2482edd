package bench

import (
	"strings"
	"testing"
	"time"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// The report renders whatever phases completed, and says which targets were missed.
func TestWriteMarkdown(t *testing.T) {
	r := Results{
		Machine: Machine{CPUModel: "Test CPU", CPUs: 2, MemoryGiB: 24, GoVersion: "go1.26.8", OS: "linux/amd64"},
		Raw: []RawExec{
			{InFlight: 1, Execs: 500, Elapsed: 10 * time.Second, Latency: Latencies{N: 500, P50: 8 * time.Millisecond, P99: 30 * time.Millisecond}},
			{InFlight: 32, Execs: 2000, Elapsed: 10 * time.Second, Latency: Latencies{N: 2000, P50: 130 * time.Millisecond, P99: 300 * time.Millisecond}},
		},
		Throughput: Throughput{Targets: 200, Interval: 100 * time.Millisecond, Probes: 1600, Elapsed: 10 * time.Second,
			ProbeTime: 150 * time.Millisecond, SlotWait: 600 * time.Millisecond},
		Fidelity: Fidelity{Targets: 1000, Checks: 10, Interval: 20 * time.Second, ProbesPerSecond: 50,
			Lateness: Latencies{N: 3000, P50: time.Millisecond, P99: 80 * time.Millisecond}},
		Steady: Writes{Targets: 1000, Probes: 4000, Elapsed: 80 * time.Second, Writes: writeCounts{status: 80}},
	}
	r.Options.Defaults()
	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"Test CPU, 2 CPUs (nproc), 24.0 GiB memory, go1.26.8",
		"160.0 probes/s = **0.80 ×** raw at 32 in flight",
		"| ≥ 0.9 × (1) | **missed** |",
		"**p99 80.0 ms**",
		"**0.020** status writes/probe",
		"**(2) Operator throughput.** **Target missed.**",
		"**(3) Schedule fidelity.** **Target missed.**",
		"make bench",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, md)
		}
	}
}
