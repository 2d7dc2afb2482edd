package controllers

import (
	"time"

	"k8s.io/utils/clock"

	"github.com/dockprobe/dockprobe/internal/prober"
)

// Defaults for Options and for the operator's flags.
const (
	DefaultMaxConcurrentProbes     = prober.DefaultMaxInFlight
	DefaultFlushPeriod             = 5 * time.Second
	DefaultMinWriteInterval        = 500 * time.Millisecond
	DefaultStatusMaxBytes          = 512 * 1024
	DefaultMaxConcurrentReconciles = 4

	// MinStatusMaxBytes is the smallest status budget accepted: below it even a handful of
	// targets cannot be described.
	MinStatusMaxBytes = 16 * 1024
)

// Names the operator uses in the API.
const (
	// ControllerName names the controller (logs, metrics) and reports the Events.
	ControllerName = "dockprobe"
	// FieldOwner is the field manager of status writes.
	FieldOwner = "dockprobe"
	// LeaderElectionID is the name of the Lease the replicas compete for.
	LeaderElectionID = "dockprobe.monitoring.dockprobe.dev"
)

// Options configures the HealthCheck controller. The zero value of each field means its default.
type Options struct {
	// MaxConcurrentProbes caps the execs in flight across every monitor.
	MaxConcurrentProbes int
	// FlushPeriod is how long results that change only logs or failing streaks may wait
	// before they are written.
	FlushPeriod time.Duration
	// MinWriteInterval is the least time between two status writes of one HealthCheck, even
	// for transitions: it batches the transitions of many pods into one write.
	MinWriteInterval time.Duration
	// StatusMaxBytes is the budget of one HealthCheck's status, in bytes of JSON. Older
	// outputs are shortened first to stay within it.
	StatusMaxBytes int
	// MaxConcurrentReconciles is how many HealthChecks are reconciled at once.
	MaxConcurrentReconciles int
	// Namespace limits the watched pods and HealthChecks to one namespace; empty means all.
	// Used by NewManager and CacheOptions.
	Namespace string
	// Clock drives the probes' timers and the write coalescing; default the real clock.
	Clock clock.WithTicker
	// Execer runs the probes; default pods/exec through the API server with the manager's
	// rest.Config (which then needs get and create on pods/exec).
	Execer prober.Execer
}

func (o Options) withDefaults() Options {
	if o.MaxConcurrentProbes <= 0 {
		o.MaxConcurrentProbes = DefaultMaxConcurrentProbes
	}
	if o.FlushPeriod <= 0 {
		o.FlushPeriod = DefaultFlushPeriod
	}
	if o.MinWriteInterval <= 0 {
		o.MinWriteInterval = DefaultMinWriteInterval
	}
	if o.StatusMaxBytes <= 0 {
		o.StatusMaxBytes = DefaultStatusMaxBytes
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return o
}
