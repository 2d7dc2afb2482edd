package demo

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/dockprobe/dockprobe/controllers"
)

// flushPeriod is shorter than the operator's default: in a demo, someone is watching
// `kubectl describe` for the latest results rather than counting API writes.
const flushPeriod = time.Second

// startOperator runs the operator, as main.go builds it, until ctx ends: no leader
// election (one replica), and no metrics or health endpoints (no port to collide with).
// The channel delivers the manager's result once it has stopped.
func startOperator(ctx context.Context, cfg *rest.Config, log logr.Logger) (<-chan error, error) {
	mgr, err := controllers.NewManager(cfg, ctrl.Options{
		Logger:                 log,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// A process may run one demo after another (go test -count=2): controller-runtime
		// would otherwise refuse the second controller named like the first.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	}, controllers.Options{FlushPeriod: flushPeriod})
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return done, nil
}
