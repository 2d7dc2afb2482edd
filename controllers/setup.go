package controllers

import (
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
)

// NewScheme returns a scheme with the built-in kinds and the HealthCheck API.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// CacheOptions are the manager's cache options the controller needs: pods stripped by
// TransformPod, managed fields stripped from everything else, and, when namespace is not
// empty, only that namespace watched.
func CacheOptions(namespace string) cache.Options {
	var opts cache.Options
	applyCacheOptions(&opts, namespace)
	return opts
}

func applyCacheOptions(opts *cache.Options, namespace string) {
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	// ByObject is keyed by pointer: a caller's own Pod entry keeps its settings, with the transform.
	var podOpts cache.ByObject
	for obj, o := range opts.ByObject {
		if _, ok := obj.(*corev1.Pod); ok {
			podOpts = o
			delete(opts.ByObject, obj)
		}
	}
	podOpts.Transform = TransformPod
	opts.ByObject[&corev1.Pod{}] = podOpts
	if opts.DefaultTransform == nil {
		opts.DefaultTransform = cache.TransformStripManagedFields()
	}
	if namespace != "" {
		opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
}

// NewManager builds a controller-runtime manager for the operator from mgrOpts (its
// Scheme defaults to NewScheme(), its cache gets CacheOptions(opts.Namespace)), sets the
// controller up with opts, and adds healthz and readyz checks.
func NewManager(cfg *rest.Config, mgrOpts ctrl.Options, opts Options) (ctrl.Manager, error) {
	if mgrOpts.Scheme == nil {
		mgrOpts.Scheme = NewScheme()
	}
	applyCacheOptions(&mgrOpts.Cache, opts.Namespace)
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	if err := SetupWithManager(mgr, opts); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("ping", func(*http.Request) error { return nil }); err != nil {
		return nil, fmt.Errorf("adding the healthz check: %w", err)
	}
	if err := mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return fmt.Errorf("informers not synced")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("adding the readyz check: %w", err)
	}
	return mgr, nil
}

// SetupWithManager adds the HealthCheck controller and its probe engine to mgr. The
// manager's cache should use CacheOptions (NewManager does it).
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	opts = opts.withDefaults()
	if opts.StatusMaxBytes < MinStatusMaxBytes {
		return fmt.Errorf("status budget %d bytes is below the minimum of %d", opts.StatusMaxBytes, MinStatusMaxBytes)
	}
	execer := opts.Execer
	if execer == nil {
		var err error
		if execer, err = prober.NewAPIServerExecer(mgr.GetConfig()); err != nil {
			return fmt.Errorf("creating the pods/exec client: %w", err)
		}
	}
	metrics, err := newTargetMetrics(crmetrics.Registry)
	if err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}

	wake := &waker{}
	store := newHealthStore(opts.Clock, opts.MinWriteInterval, wake.kick)
	probes := prober.NewManager(prober.Options{
		Execer:      execer,
		Clock:       opts.Clock,
		MaxInFlight: opts.MaxConcurrentProbes,
		Sink:        store.sink,
		Logger:      mgr.GetLogger().WithName("prober"),
	})
	if err := mgr.Add(probes); err != nil {
		return fmt.Errorf("adding the probe engine: %w", err)
	}
	r := &reconciler{
		client:   mgr.GetClient(),
		probes:   probes,
		store:    store,
		recorder: mgr.GetEventRecorder(ControllerName),
		metrics:  metrics,
		clock:    opts.Clock,
		policy:   flushPolicy{FlushPeriod: opts.FlushPeriod, MinWriteInterval: opts.MinWriteInterval},
		maxBytes: opts.StatusMaxBytes,
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("healthcheck").
		// Status writes (ours) do not change the generation: no reconcile for them.
		For(&v1alpha1.HealthCheck{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.healthChecksForPod), builder.WithPredicates(podChanged)).
		WatchesRawSource(source.Func(wake.start)).
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles}).
		Complete(r)
}
