package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/controllers"
	"github.com/dockprobe/dockprobe/internal/devcluster"
	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// NodeName is the simulated node's name.
const NodeName = "demo-node"

// Options configures a demo.
type Options struct {
	// Dir is the working directory; default <repository root>/.demo. Stop removes it.
	Dir string
	// Port is the API server's port on 127.0.0.1; 0 picks a free one.
	Port int
	// Root is the repository's root (config/crd, config/demo, hack/); default
	// devcluster.RepoRoot().
	Root string
	// Logger receives the demo's, the node's and the operator's logs; default discards.
	Logger logr.Logger
	// Progress receives the output of a first build of the control plane's binaries;
	// default os.Stderr.
	Progress io.Writer
	// WithoutOperator leaves the operator out, for running it separately against the
	// demo's cluster (KUBECONFIG=<Dir>/kubeconfig make run).
	WithoutOperator bool
}

// Env is a running demo. Stop ends it; calls after the first return the first one's result.
type Env struct {
	// Set by Start, read-only afterwards.
	dir      string
	log      logr.Logger
	operator bool // whether this process runs the operator
	cluster  *devcluster.Cluster
	node     *kubeletsim.Node
	client   client.Client
	// stopOperator cancels the operator's context; operatorDone then delivers the
	// manager's result.
	stopOperator context.CancelFunc
	operatorDone <-chan error

	stopOnce sync.Once
	stopErr  error
}

// Start brings the whole demo up and applies config/demo. ctx bounds start-up only (a
// Ctrl-C while the control plane starts); the demo then runs until Stop. On error,
// whatever had started is stopped and the working directory removed.
func Start(ctx context.Context, opts Options) (*Env, error) {
	if err := defaults(&opts); err != nil {
		return nil, err
	}
	e := &Env{dir: opts.Dir, log: opts.Logger, operator: !opts.WithoutOperator}
	if err := claimDir(e.dir, e.log); err != nil {
		return nil, err
	}
	if err := e.start(ctx, opts); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return e, nil
}

func defaults(opts *Options) error {
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	if opts.Progress == nil {
		opts.Progress = os.Stderr
	}
	if opts.Root == "" {
		root, err := devcluster.RepoRoot()
		if err != nil {
			return err
		}
		opts.Root = root
	}
	if opts.Dir == "" {
		opts.Dir = filepath.Join(opts.Root, ".demo")
	}
	dir, err := filepath.Abs(opts.Dir)
	opts.Dir = dir
	return err
}

func (e *Env) start(ctx context.Context, opts Options) error {
	if err := writeSeeds(e.PodsDir()); err != nil {
		return err
	}
	e.log.Info("Starting the control plane (kube-apiserver, etcd)")
	cluster, err := devcluster.Start(devcluster.Options{
		Dir: e.dir, Port: opts.Port, Name: "dockprobe-demo", Root: opts.Root, Progress: opts.Progress,
	})
	if err != nil {
		return err
	}
	e.cluster = cluster
	cfg := cluster.Config()
	if e.client, err = client.New(cfg, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	e.log.Info("Starting the simulated node", "node", NodeName)
	if e.node, err = kubeletsim.Start(ctx, cfg, kubeletsim.Options{
		NodeName:       NodeName,
		Schedule:       true,
		DefaultHandler: podDirHandler(e.PodsDir()),
		Logger:         e.log.WithName("kubeletsim"),
	}); err != nil {
		return err
	}

	if e.operator {
		e.log.Info("Starting the operator")
		opCtx, cancel := context.WithCancel(context.Background())
		e.stopOperator = cancel
		if e.operatorDone, err = startOperator(opCtx, cfg, e.log.WithName("operator")); err != nil {
			return err
		}
	}

	e.log.Info("Applying the sample pods and HealthChecks", "dir", filepath.Join(opts.Root, "config", "demo"))
	if err := applyManifests(ctx, e.client, filepath.Join(opts.Root, "config", "demo")); err != nil {
		return err
	}
	if !e.operator {
		return nil
	}
	return e.waitReported(ctx)
}

// reportedTimeout bounds the wait for the operator's first statuses.
const reportedTimeout = time.Minute

// waitReported waits until the operator has written a status listing targets for every
// HealthCheck of the default namespace, so that whoever runs `kubectl get healthchecks`
// next sees them at work.
func (e *Env) waitReported(ctx context.Context) error {
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, reportedTimeout, true, func(ctx context.Context) (bool, error) {
		var list v1alpha1.HealthCheckList
		if err := e.client.List(ctx, &list, client.InNamespace("default")); err != nil {
			return false, nil
		}
		for _, hc := range list.Items {
			if hc.Status.Total == 0 {
				return false, nil
			}
		}
		return len(list.Items) > 0, nil
	})
}

// Dir is the demo's working directory (absolute).
func (e *Env) Dir() string { return e.dir }

// PodsDir holds one directory per pod, <namespace>/<pod>, where the pod's checks run.
func (e *Env) PodsDir() string { return filepath.Join(e.dir, "pods") }

// PodDir is the directory where the checks of one pod run.
func (e *Env) PodDir(namespace, pod string) string {
	return filepath.Join(e.PodsDir(), namespace, pod)
}

// Kubeconfig is the path of the admin kubeconfig, for kubectl.
func (e *Env) Kubeconfig() string { return e.cluster.KubeconfigPath() }

// Host is the API server's URL.
func (e *Env) Host() string { return e.cluster.Host() }

// Config returns a copy of the admin client configuration.
func (e *Env) Config() *rest.Config { return e.cluster.Config() }

// Client is an admin client that knows HealthChecks (no cache: reads go to the API server).
func (e *Env) Client() client.Client { return e.client }

// Stop stops the operator, then the node (ending every check still running), then the
// control plane, and removes the working directory. Later calls return the first one's
// result.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		var errs []error
		if e.stopOperator != nil {
			e.stopOperator()
			if e.operatorDone != nil {
				if err := <-e.operatorDone; err != nil {
					errs = append(errs, fmt.Errorf("operator: %w", err))
				}
			}
		}
		if e.node != nil {
			e.node.Stop()
		}
		if e.cluster != nil {
			errs = append(errs, e.cluster.Stop())
		}
		errs = append(errs, releaseDir(e.dir))
		e.stopErr = errors.Join(errs...)
		e.log.Info("Demo stopped", "removed", e.dir)
	})
	return e.stopErr
}
