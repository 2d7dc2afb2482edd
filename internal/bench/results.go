package bench

import "time"

// Results are every figure of one run.
type Results struct {
	Machine Machine
	Options Options
	Started time.Time
	Took    time.Duration

	Raw        []RawExec
	Throughput Throughput
	Fidelity   Fidelity
	Steady     Writes // at FidelityTargets healthy targets
	Flapping   Writes
	Memory     []Memory
	Startup    Startup
}

// RawAt returns the raw exec level with inFlight execs in flight, if measured.
func (r Results) RawAt(inFlight int) (RawExec, bool) {
	for _, x := range r.Raw {
		if x.InFlight == inFlight {
			return x, true
		}
	}
	return RawExec{}, false
}

// RawBest is the raw level with the highest throughput: the local ceiling.
func (r Results) RawBest() RawExec {
	var best RawExec
	for _, x := range r.Raw {
		if x.PerSecond() > best.PerSecond() {
			best = x
		}
	}
	return best
}

// Throughput is measure 2: the operator saturated.
type Throughput struct {
	Targets  int
	Interval time.Duration
	Probes   float64 // dockprobe_health_checks_total over the window
	Execs    int     // execs the node served over the window
	Elapsed  time.Duration
	Writes   writeCounts
	// The operator's own view over the window: mean probe duration (exec request to
	// result) and mean wait for an exec slot under its cap.
	ProbeTime, SlotWait time.Duration
	// NodeMaxInFlight is the most execs the node's handlers ran at once; execs the
	// operator has in flight also include TLS and stream set-up, which the node does not see.
	NodeMaxInFlight int
	// OperatorCPU and BenchCPU are the CPU time the operator process and this process
	// (the node) used over the window; Busy how busy the machine was, 0 to 1.
	OperatorCPU, BenchCPU time.Duration
	Busy                  float64
	// Recheck is the raw rate at the operator's cap, measured again right after the
	// window (the operator idle): how far the ceiling drifted during the run.
	Recheck RawExec
}

// OperatorCPUPerProbe is the operator process's CPU time per probe.
func (t Throughput) OperatorCPUPerProbe() time.Duration {
	return time.Duration(ratio(float64(t.OperatorCPU), t.Probes))
}

// NodeCPUPerExec is this process's CPU time per exec during the window: the simulated
// node's share of an exec (the bench's own polling is negligible).
func (t Throughput) NodeCPUPerExec() time.Duration {
	return time.Duration(ratio(float64(t.BenchCPU), t.Probes))
}

// ClientCPUPerExec is what client-go alone spent per exec in raw level x: this process's
// CPU per exec then, less the node's share measured in the operator's window.
func (t Throughput) ClientCPUPerExec(x RawExec) time.Duration {
	return time.Duration(ratio(float64(x.CPU.Process), float64(x.Execs))) - t.NodeCPUPerExec()
}

// InFlight is the operator's mean number of execs in flight (Little's law: rate times
// mean duration).
func (t Throughput) InFlight() float64 { return t.PerSecond() * t.ProbeTime.Seconds() }

// PerSecond is the operator's probe rate.
func (t Throughput) PerSecond() float64 { return perSecond(t.Probes, t.Elapsed) }

// Fidelity is measure 3: how late probes start, against Docker's plan (the previous
// probe's end plus the interval), from the results' own timestamps.
type Fidelity struct {
	Targets, Checks int
	Interval        time.Duration
	Lateness        Latencies
	Early           int // pairs that started before plan (clock granularity); counted as 0
	ProbesPerSecond float64
	SlotWait        time.Duration // the operator's mean wait for an exec slot over the window
}

// Writes is measure 4 for one load: status and event writes per probe.
type Writes struct {
	Targets  int
	Interval time.Duration
	Probes   float64
	Elapsed  time.Duration
	Writes   writeCounts
}

// StatusPerProbe is the number of healthchecks/status writes per probe.
func (w Writes) StatusPerProbe() float64 { return ratio(w.Writes.status, w.Probes) }

// EventsPerProbe is the number of event writes per probe.
func (w Writes) EventsPerProbe() float64 { return ratio(w.Writes.events, w.Probes) }

// Memory is measure 5 at one size: the operator's heap (after a forced GC) and RSS, with
// the same process's figures before any of these targets existed.
type Memory struct {
	Targets                    int
	Heap, HeapBaseline         float64
	RSS, RSSBaseline           float64
	HeapLive, HeapLiveBaseline float64 // go_gc_heap_live_bytes, when exported
	// Stack is goroutine stacks (go_memstats_stack_inuse_bytes): a monitor is a
	// goroutine, whose stack is not heap.
	Stack, StackBaseline float64
	// HeapShares split HeapPerTarget by what holds it, from heap profiles (pprof's
	// sampling makes them estimates; they need not add up to HeapPerTarget exactly).
	HeapShares []HeapShare
}

// StackPerTarget is the goroutine stack memory the targets added, per target.
func (m Memory) StackPerTarget() float64 { return ratio(m.Stack-m.StackBaseline, float64(m.Targets)) }

// HeapPerTarget is the heap the targets added, per target.
func (m Memory) HeapPerTarget() float64 { return ratio(m.Heap-m.HeapBaseline, float64(m.Targets)) }

// RSSPerTarget is the RSS the targets added, per target.
func (m Memory) RSSPerTarget() float64 { return ratio(m.RSS-m.RSSBaseline, float64(m.Targets)) }

// Startup is measure 6: from creating a HealthCheck that selects Targets running pods to
// the operator reporting every one of them (a target is reported once its monitor runs).
type Startup struct {
	Targets int
	Took    time.Duration
}

func perSecond(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
