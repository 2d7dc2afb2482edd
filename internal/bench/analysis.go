package bench

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// analyses hold one paragraph per measure. Each is written from the run's own figures;
// the causes they name are the ones the figures point to (which of CPU, the cap, the
// flush period... was binding), so a rerun that misses a target explains itself.
var analyses = []func(Results) string{
	analyzeRaw,
	analyzeThroughput,
	analyzeFidelity,
	analyzeWrites,
	analyzeMemory,
	analyzeStartup,
}

func missed(met bool) string {
	if met {
		return ""
	}
	return "**Target missed.** "
}

func analyzeRaw(r Results) string {
	if len(r.Raw) < 2 {
		return ""
	}
	first, last := r.Raw[0], r.Raw[len(r.Raw)-1]
	return fmt.Sprintf("**(1) Raw exec.** One exec at a time is latency-bound (CPUs %.0f%% busy); from a few in flight "+
		"on it is CPU-bound (%.0f%% busy at %d). Every exec opens a new TLS connection to the API server (client-go's "+
		"WebSocket dialer does not reuse connections), is authenticated and authorized, and is proxied over a "+
		"second new connection to the node as SPDY with its own streams; kube-apiserver, etcd, the node and the "+
		"client share %d CPUs. Going from %d to %d execs in flight multiplies throughput by %.1f but p50 latency "+
		"by %.1f: past the knee, more concurrency only queues. More cores, or an exec path that reuses "+
		"connections, would move it; nothing in dockprobe can.",
		100*first.CPU.Busy, 100*last.CPU.Busy, last.InFlight, r.Machine.CPUs, first.InFlight, last.InFlight,
		ratio(last.PerSecond(), first.PerSecond()), ratio(float64(last.Latency.P50), float64(first.Latency.P50)))
}

func analyzeThroughput(r Results) string {
	t := r.Throughput
	if t.Probes == 0 {
		return ""
	}
	ref, ok := r.RawAt(t.MaxInFlightCap(r.Options))
	if !ok {
		ref = r.RawBest()
	}
	rat := ratio(t.PerSecond(), ref.PerSecond())
	s := fmt.Sprintf("**(2) Operator throughput.** %sThe operator kept %.1f execs in flight on average against its cap of %d, "+
		"and probes waited %s on average for a slot: it was saturated, bounded by the exec path of (1), at %.2f × the "+
		"raw rate with as many in flight. ",
		missed(rat >= targetThroughputRatio), t.InFlight(), t.MaxInFlightCap(r.Options), ms(t.SlotWait), rat)
	if t.Recheck.Execs > 0 {
		s += fmt.Sprintf("Measured again right after the operator's window, the raw rate was %.1f/s (the operator's rate "+
			"is %.2f × that): the ceiling itself moved by %.0f%% between two windows of one run on this shared machine. ",
			t.Recheck.PerSecond(), ratio(t.PerSecond(), t.Recheck.PerSecond()),
			100*abs(ratio(t.Recheck.PerSecond(), ref.PerSecond())-1))
	}
	switch {
	case t.OperatorCPU == 0 || ref.Execs == 0:
	case t.Busy < 0.9 || ref.CPU.Busy < 0.9:
		s += fmt.Sprintf("The CPUs were not saturated (%.0f%% busy in the operator's window, %.0f%% in the raw one), "+
			"so CPU alone does not explain the difference. ", 100*t.Busy, 100*ref.CPU.Busy)
	default:
		// On saturated CPUs, every CPU second the operator spends per probe beyond what
		// client-go alone spends per exec is taken from the exec path.
		client := t.ClientCPUPerExec(ref)
		extra := t.OperatorCPUPerProbe() - client
		perExec := time.Duration(ref.CPU.Busy * float64(r.Machine.CPUs) * float64(ref.Elapsed) / float64(ref.Execs))
		predicted := ratio(float64(perExec), float64(perExec+max(extra, 0)))
		s += fmt.Sprintf("The CPUs were saturated in both windows (%.0f%% and %.0f%% busy), so CPU is the currency: "+
			"the operator process spent %s of CPU per probe where client-go alone spent %s per exec, %s more, "+
			"against %s of machine CPU per raw exec in all (API server, etcd, node, client); that alone predicts "+
			"%.2f × the raw rate. ", 100*ref.CPU.Busy, 100*t.Busy, ms(t.OperatorCPUPerProbe()), ms(client), ms(extra),
			ms(perExec), predicted)
	}
	s += "The operator's part of that CPU is its exec client plus its own work per result (status, metrics, " +
		"the Go runtime); less of it per probe would move the ratio, more cores or a cheaper exec path would move " +
		"both figures. A higher --max-concurrent-probes would not: the raw figures show 32 in flight is already " +
		"past the knee."
	return s
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func analyzeFidelity(r Results) string {
	f := r.Fidelity
	if f.Lateness.N == 0 {
		return ""
	}
	load := ratio(f.ProbesPerSecond, r.RawBest().PerSecond())
	s := fmt.Sprintf("**(3) Schedule fidelity.** %sAt %s targets every %s the operator ran %.1f probes/s, %.0f%% of the "+
		"raw ceiling, and probes waited %s on average for an exec slot; what is left (p50 %s, p99 %s) is the "+
		"monitor's own work between a result and re-arming its timer, the timer firing late and the goroutine "+
		"waiting to be scheduled on CPUs shared with the API server. ",
		missed(f.Lateness.P99 <= targetLatenessP99), thousands(f.Targets), f.Interval, f.ProbesPerSecond, 100*load,
		ms(f.SlotWait), ms(f.Lateness.P50), ms(f.Lateness.P99))
	s += fmt.Sprintf("What makes lateness grow is load rather than the number of targets: as the probe rate nears the "+
		"ceiling, probes queue for a slot, and a probe's start is stamped when it gets one (in (2), saturated, the "+
		"mean slot wait was %s). Bursts do the same: 1,000 targets whose containers all start in the same second "+
		"all want their first probe in the same second, and the exec path needs seconds to drain that; Docker's "+
		"rule (interval counted from the end of the previous probe) then keeps the spread. A jitter on the first "+
		"wait (which Docker does not have) would remove that one burst; a higher cap would not, past the knee of (1).",
		ms(r.Throughput.SlotWait))
	return s
}

func analyzeWrites(r Results) string {
	st, fl := r.Steady, r.Flapping
	if st.Probes == 0 {
		return ""
	}
	s := fmt.Sprintf("**(4) API writes.** %sAt steady state a HealthCheck whose targets' statuses do not change writes "+
		"only to refresh logs and failing streaks, at most once per status flush period (--status-flush-period, "+
		"5s by default): %d HealthChecks over %.1f probes/s give %.3f status writes per probe, and fewer, larger "+
		"HealthChecks or a longer flush period give fewer. ",
		missed(st.StatusPerProbe() <= targetWritesPerProbe), r.Fidelity.Checks, perSecond(st.Probes, st.Elapsed),
		st.StatusPerProbe())
	if fl.Probes > 0 {
		s += fmt.Sprintf("While flapping, status transitions are written within the minimum write interval (500ms) of "+
			"their HealthCheck, so %d flapping targets in one HealthCheck cost %.3f status writes per probe; but each "+
			"status change also reports Docker's health_status event twice, on the Pod and on the HealthCheck, so "+
			"events dominate at %.2f writes per probe. One event per change (Docker emits one), or letting "+
			"events.k8s.io series absorb repeats, would halve or better that.",
			fl.Targets, fl.StatusPerProbe(), fl.EventsPerProbe())
	}
	return s
}

func analyzeMemory(r Results) string {
	if len(r.Memory) == 0 {
		return ""
	}
	worst := r.Memory[0]
	for _, m := range r.Memory {
		if m.HeapPerTarget() > worst.HeapPerTarget() {
			worst = m
		}
	}
	largest := r.Memory[len(r.Memory)-1]
	s := fmt.Sprintf("**(5) Memory.** %sAt most %s of heap per idle target here. ",
		missed(worst.HeapPerTarget() <= targetHeapPerTarget), kibf(worst.HeapPerTarget()))
	if len(largest.HeapShares) > 0 {
		s += "The heap profiles split it (table under Results). "
		top := slices.Clone(largest.HeapShares)
		slices.SortFunc(top, func(a, b HeapShare) int { return cmp.Compare(b.PerTarget, a.PerTarget) })
		for _, sh := range top[:min(2, len(top))] {
			s += heapShareWhy[sh.Category]
		}
	}
	s += fmt.Sprintf("Each monitor is also a goroutine, whose stack (%s per target) is not heap; RSS per target "+
		"(%s at %s targets) adds both to the allocator's slack. A design without one goroutine per idle target "+
		"(a shared timer wheel) would save the stack.",
		kibf(largest.StackPerTarget()), kibf(largest.RSSPerTarget()), thousands(largest.Targets))
	return s
}

// heapShareWhy explains a heap category when it is among the largest.
var heapShareWhy = map[string]string{
	heapCategories[0].name: "Each monitor builds a logger with its namespace, HealthCheck, pod, container and " +
		"container ID; zap encodes those fields when the logger is built, for every target, although an idle " +
		"monitor never logs: building it when a monitor first logs would save that share. ",
	heapCategories[1].name: "A cached pod, even stripped to the few fields the controller reads, is a " +
		"corev1.Pod: a large struct of mostly empty fields; caching a small struct of those fields instead " +
		"(a transform to a lean type, or metadata-only watches) would shrink it. ",
	heapCategories[2].name: "A monitor is its struct, its context, its timer and its published snapshot. ",
	heapCategories[3].name: "The store keeps each target's health, and the last written status, which the " +
		"informer cache holds once more inside the HealthCheck. ",
	heapCategories[4].name: "Informer caches and the decoding of list and watch responses grow with the " +
		"number of objects. ",
}

func analyzeStartup(r Results) string {
	st := r.Startup
	if st.Targets == 0 {
		return ""
	}
	limit := targetStartupThousand * time.Duration(st.Targets) / targetStartupTargetsFor
	return fmt.Sprintf("**(6) Start-up.** %sOne reconcile lists the %s pods from the operator's cache, starts a "+
		"monitor (a goroutine) for each, and writes one status patch listing them all; %s is that, plus this "+
		"bench's 100 ms polling. It is the controller's work alone, not the exec path's: no probe runs before "+
		"the first interval.",
		missed(st.Took <= limit), thousands(st.Targets), st.Took.Round(10*time.Millisecond))
}
