package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dockprobe/dockprobe/controllers"
	"github.com/dockprobe/dockprobe/internal/devcluster"
	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// nodeName is the simulated node every benchmark pod runs on.
const nodeName = "bench-node"

// nodeWorkers is how many pods the node syncs at once: 10,000 pods each need a binding
// and a status write, and the default 4 workers would make the node the bottleneck.
const nodeWorkers = 16

// harness is the bench's side of the cluster: the control plane, the simulated node and
// admin clients. It lives in the bench process; the operator does not.
type harness struct {
	cluster *devcluster.Cluster
	node    *kubeletsim.Node
	config  *rest.Config
	kube    kubernetes.Interface
	client  client.Client
}

func startHarness(ctx context.Context, dir, root string, log logr.Logger) (*harness, error) {
	cluster, err := devcluster.Start(devcluster.Options{
		Dir: filepath.Join(dir, "cluster"), Name: "dockprobe-bench", Root: root,
	})
	if err != nil {
		return nil, err
	}
	h := &harness{cluster: cluster, config: cluster.Config()}
	if err := h.init(ctx, log); err != nil {
		return nil, errors.Join(err, h.stop())
	}
	return h, nil
}

func (h *harness) init(ctx context.Context, log logr.Logger) error {
	cfg := rest.CopyConfig(h.config)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	var err error
	if h.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if h.client, err = client.New(h.config, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		return err
	}
	// Every exec answers at once, exit 0: the figures are the exec path's, not a check's.
	h.node, err = kubeletsim.Start(ctx, h.config, kubeletsim.Options{
		NodeName:       nodeName,
		Schedule:       true,
		DefaultHandler: kubeletsim.Reply(0, "ok\n"),
		Workers:        nodeWorkers,
		RecordLimit:    200000,
		Logger:         log.WithName("kubeletsim"),
	})
	if err != nil {
		return fmt.Errorf("starting the simulated node: %w", err)
	}
	return nil
}

func (h *harness) stop() error {
	if h.node != nil {
		h.node.Stop()
	}
	return h.cluster.Stop()
}
