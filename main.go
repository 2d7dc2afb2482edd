// Command manager is the dockprobe operator: it runs Docker-style HEALTHCHECKs in the
// containers selected by HealthCheck objects and reports their health.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/dockprobe/dockprobe/controllers"
)

func main() {
	var (
		metricsAddr, probeAddr, pprofAddr, leaderElectionNamespace string
		leaderElect                                                bool
		opts                                                       controllers.Options
	)
	// --kubeconfig is registered by controller-runtime's config package (ctrl.GetConfig).
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address the metrics endpoint binds to (e.g. :8080); 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz endpoints bind to; 0 disables them.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address Go's pprof endpoints (/debug/pprof/) bind to; empty disables them.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader through a Lease, so that only one replica probes and writes status.")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the operator's own namespace when in a cluster).")
	flag.IntVar(&opts.MaxConcurrentProbes, "max-concurrent-probes", controllers.DefaultMaxConcurrentProbes, "Most probe execs in flight at once, across every HealthCheck.")
	flag.DurationVar(&opts.FlushPeriod, "status-flush-period", controllers.DefaultFlushPeriod, "Longest a result that changes only a log or a failing streak waits before the status is written; status transitions are written at once.")
	flag.IntVar(&opts.StatusMaxBytes, "status-max-bytes", controllers.DefaultStatusMaxBytes, "Byte budget of one HealthCheck's status; older outputs are shortened first to stay within it.")
	flag.StringVar(&opts.Namespace, "namespace", "", "Only watch HealthChecks and pods of this namespace (default: all namespaces).")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	if err := validate(opts); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		flag.Usage()
		os.Exit(2)
	}

	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "Cannot load a kubeconfig")
		os.Exit(1)
	}
	mgr, err := controllers.NewManager(cfg, ctrl.Options{
		Metrics:                       metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:        probeAddr,
		PprofBindAddress:              pprofAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              controllers.LeaderElectionID,
		LeaderElectionNamespace:       leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true, // the process exits right after: a successor need not wait for the lease to expire
	}, opts)
	if err != nil {
		log.Error(err, "Cannot set up the manager")
		os.Exit(1)
	}
	log.Info("Starting the manager", "namespace", opts.Namespace, "leaderElect", leaderElect,
		"maxConcurrentProbes", opts.MaxConcurrentProbes, "statusFlushPeriod", opts.FlushPeriod, "statusMaxBytes", opts.StatusMaxBytes)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "Manager stopped with an error")
		os.Exit(1)
	}
}

func validate(opts controllers.Options) error {
	var errs []error
	if opts.MaxConcurrentProbes < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-probes must be at least 1, not %d", opts.MaxConcurrentProbes))
	}
	if opts.FlushPeriod <= 0 {
		errs = append(errs, fmt.Errorf("--status-flush-period must be positive, not %v", opts.FlushPeriod))
	} else if opts.FlushPeriod < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--status-flush-period %v is below 100ms", opts.FlushPeriod))
	}
	if opts.StatusMaxBytes < controllers.MinStatusMaxBytes {
		errs = append(errs, fmt.Errorf("--status-max-bytes must be at least %d, not %d", controllers.MinStatusMaxBytes, opts.StatusMaxBytes))
	}
	return errors.Join(errs...)
}
