package bench

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dockprobe/dockprobe/internal/prober"
)

// Targets the issue sets, which the report states results against.
const (
	targetThroughputRatio   = 0.9
	targetLatenessP99       = 50 * time.Millisecond
	targetWritesPerProbe    = 0.1
	targetHeapPerTarget     = 16 << 10
	targetStartupThousand   = 5 * time.Second
	targetStartupTargetsFor = 1000
)

// row is one line of the figures table.
type row struct {
	measure, what, result, target, verdict string
}

// rows turns the results into the table's lines.
func (r Results) rows() []row {
	var rows []row
	for _, x := range r.Raw {
		rows = append(rows, row{"1", fmt.Sprintf("raw exec, client-go alone, %d in flight", x.InFlight),
			fmt.Sprintf("%.1f execs/s; p50 %s, p99 %s (n=%d, %d errors; CPUs %.0f%% busy)", x.PerSecond(), ms(x.Latency.P50), ms(x.Latency.P99), x.Latency.N, x.Errors, 100*x.CPU.Busy),
			"— (the local ceiling)", ""})
	}

	t := r.Throughput
	ref, ok := r.RawAt(t.MaxInFlightCap(r.Options))
	if !ok {
		ref = r.RawBest()
	}
	tRatio := ratio(t.PerSecond(), ref.PerSecond())
	rows = append(rows, row{"2", fmt.Sprintf("operator, sustained probes (%d targets every %s, saturated)", t.Targets, t.Interval),
		fmt.Sprintf("%.1f probes/s = **%.2f ×** raw at %d in flight (%.1f/s), %.2f × the best raw level; raw at %d re-measured right after: %.1f/s (%.2f ×); mean probe %s, mean slot wait %s, %.1f execs in flight on average; CPUs %.0f%% busy",
			t.PerSecond(), tRatio, ref.InFlight, ref.PerSecond(), ratio(t.PerSecond(), r.RawBest().PerSecond()),
			t.Recheck.InFlight, t.Recheck.PerSecond(), ratio(t.PerSecond(), t.Recheck.PerSecond()),
			ms(t.ProbeTime), ms(t.SlotWait), t.InFlight(), 100*t.Busy),
		fmt.Sprintf("≥ %.1f × (1)", targetThroughputRatio), verdict(tRatio >= targetThroughputRatio)})

	f := r.Fidelity
	rows = append(rows, row{"3", fmt.Sprintf("schedule fidelity, actual − planned probe start, %s targets every %s", thousands(f.Targets), f.Interval),
		fmt.Sprintf("p50 %s, **p99 %s**, max %s (n=%d pairs; %.1f probes/s)", ms(f.Lateness.P50), ms(f.Lateness.P99), ms(f.Lateness.Max), f.Lateness.N, f.ProbesPerSecond),
		"p99 ≤ 50 ms", verdict(f.Lateness.N > 0 && f.Lateness.P99 <= targetLatenessP99)})

	s := r.Steady
	rows = append(rows, row{"4", fmt.Sprintf("API writes per probe, steady state (%s healthy targets, %d HealthChecks)", thousands(s.Targets), f.Checks),
		fmt.Sprintf("**%.3f** status writes/probe; %.3f event writes/probe (%.0f probes)", s.StatusPerProbe(), s.EventsPerProbe(), s.Probes),
		"≤ 0.1", verdict(s.Probes > 0 && s.StatusPerProbe() <= targetWritesPerProbe)})
	fl := r.Flapping
	rows = append(rows, row{"4", fmt.Sprintf("API writes per probe, flapping (%d targets every %s, each probe changes status)", fl.Targets, fl.Interval),
		fmt.Sprintf("%.3f status writes/probe; %.3f event writes/probe (%.0f probes)", fl.StatusPerProbe(), fl.EventsPerProbe(), fl.Probes),
		"— (informative)", ""})

	for _, m := range r.Memory {
		rows = append(rows, row{"5", fmt.Sprintf("memory per idle target, %s targets", thousands(m.Targets)),
			fmt.Sprintf("heap **%s**/target (%s → %s); goroutine stacks %s/target; RSS %s/target (%s → %s)",
				kibf(m.HeapPerTarget()), mibf(m.HeapBaseline), mibf(m.Heap), kibf(m.StackPerTarget()),
				kibf(m.RSSPerTarget()), mibf(m.RSSBaseline), mibf(m.RSS)),
			"heap ≤ 16 KiB", verdict(m.HeapPerTarget() <= targetHeapPerTarget)})
	}

	st := r.Startup
	rows = append(rows, row{"6", fmt.Sprintf("HealthCheck selecting %s running pods → all monitors running", thousands(st.Targets)),
		fmt.Sprintf("**%s**", st.Took.Round(10*time.Millisecond)),
		"≤ 5 s for 1,000", verdict(st.Targets > 0 && st.Took <= targetStartupThousand*time.Duration(max(st.Targets, 1))/targetStartupTargetsFor)})
	return rows
}

// MaxInFlightCap is the operator's cap on execs in flight during measure 2.
func (t Throughput) MaxInFlightCap(o Options) int {
	if o.MaxInFlight > 0 {
		return o.MaxInFlight
	}
	return prober.DefaultMaxInFlight
}

// WriteTable writes the figures as a Markdown table.
func (r Results) WriteTable(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| # | measure | result | target | verdict |\n|---|---|---|---|---|\n")
	for _, x := range r.rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", x.measure, x.what, x.result, x.target, x.verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func kibf(b float64) string { return fmt.Sprintf("%.1f KiB", b/(1<<10)) }
func mibf(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
