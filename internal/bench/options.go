package bench

import (
	"io"
	"time"

	"github.com/go-logr/logr"
)

// Options sizes the run. With the defaults the whole run takes about 5 minutes on 2 cores
// (plus the first build of the operator), well inside the 10 to 15 minutes allowed.
type Options struct {
	// Root is the repository's root; default devcluster.RepoRoot().
	Root string
	// Dir is a scratch directory (control plane state, the operator's binary and logs);
	// default a new temporary directory, removed at the end.
	Dir string

	// RawInFlight are the levels of execs in flight of measure 1.
	RawInFlight []int
	// RawWindow is how long each level runs.
	RawWindow time.Duration

	// MaxInFlight is the operator's cap on execs in flight (its flag); 0 keeps its default.
	MaxInFlight int

	// ThroughputTargets at ThroughputInterval must ask for more probes than the exec path
	// can run, so that the operator is saturated (measure 2).
	ThroughputTargets  int
	ThroughputInterval time.Duration
	ThroughputWarmup   time.Duration
	ThroughputWindow   time.Duration

	// FidelityTargets healthy targets at FidelityInterval, FidelityPerCheck per
	// HealthCheck, observed for FidelityWindow (measures 3 and 4, steady state).
	FidelityTargets  int
	FidelityPerCheck int
	FidelityInterval time.Duration
	FidelityWindow   time.Duration

	// FlapTargets alternate between exit 0 and exit 1 at FlapInterval with retries 1, so
	// that every probe changes their status (measure 4, flapping).
	FlapTargets  int
	FlapInterval time.Duration
	FlapWindow   time.Duration

	// MemoryTargets are the sizes at which idle targets' memory is measured (measure 5),
	// ascending; the first is also measure 6's N. MemoryPerCheck targets per HealthCheck.
	MemoryTargets  []int
	MemoryPerCheck int

	// Logger receives progress; Progress the first build of the control plane's binaries.
	Logger   logr.Logger
	Progress io.Writer
}

// Defaults fills unset fields.
func (o *Options) Defaults() {
	setDefault(&o.RawWindow, 10*time.Second)
	if len(o.RawInFlight) == 0 {
		o.RawInFlight = []int{1, 8, 32}
	}
	setDefault(&o.ThroughputTargets, 200)
	setDefault(&o.ThroughputInterval, 100*time.Millisecond)
	setDefault(&o.ThroughputWarmup, 5*time.Second)
	setDefault(&o.ThroughputWindow, 20*time.Second)
	setDefault(&o.FidelityTargets, 1000)
	setDefault(&o.FidelityPerCheck, 100)
	setDefault(&o.FidelityInterval, 20*time.Second)
	setDefault(&o.FidelityWindow, 80*time.Second)
	setDefault(&o.FlapTargets, 50)
	setDefault(&o.FlapInterval, time.Second)
	setDefault(&o.FlapWindow, 20*time.Second)
	if len(o.MemoryTargets) == 0 {
		o.MemoryTargets = []int{1000, 10000}
	}
	setDefault(&o.MemoryPerCheck, 1000)
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}
