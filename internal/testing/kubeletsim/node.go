package kubeletsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	goruntime "runtime"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/connrotation"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// LabelSimulated marks the Node objects this package registers.
const LabelSimulated = "kubeletsim.dockprobe.dev/simulated"

// DefaultWorkers is how many pods a node syncs at once when Options.Workers is 0.
const DefaultWorkers = 4

// Options configures a simulated node.
type Options struct {
	// NodeName is the Node's name. Required.
	NodeName string
	// Namespaces limits the pods the node runs; empty means every namespace.
	Namespaces []string
	// Schedule makes the node act as the scheduler too: it binds every pod with no
	// spec.nodeName (in Namespaces) to itself. Give it to one node per cluster.
	Schedule bool
	// DefaultHandler answers execs into containers without a scripted handler; nil means
	// "exit 0, no output".
	DefaultHandler Handler
	// Workers bounds how many pods are synced at once; 0 means DefaultWorkers.
	Workers int
	// RecordLimit bounds how many ExecRecords are kept; 0 means DefaultRecordLimit.
	RecordLimit int
	// Logger receives the node's logs; the zero value discards them.
	Logger logr.Logger
	// Clock stamps container start times and exec records; nil means the real clock.
	Clock clock.PassiveClock
}

// Node is a running simulated node. Its methods are safe for concurrent use.
type Node struct {
	// Set by Start, read-only afterwards.
	name   string
	log    logr.Logger
	clock  clock.PassiveClock
	client kubernetes.Interface
	conns  *connrotation.ConnectionTracker
	server *kubeletServer
	pods   *podWatch
	queue  workqueue.TypedRateLimitingInterface[string]
	cancel context.CancelFunc // ends the informers' and workers' context

	// Each owns its state behind its own lock.
	runtime  *containerRuntime
	handlers *handlerTable
	records  *execRecorder

	workers  sync.WaitGroup
	stopOnce sync.Once
}

// Start registers the Node named opts.NodeName (creating it, or taking over an existing
// one), serves its exec endpoint, and runs its pods until Stop. ctx bounds start-up only.
// Start returns once the node is Ready and its pod caches are synced; pods bound to it
// become Running shortly after.
func Start(ctx context.Context, cfg *rest.Config, opts Options) (*Node, error) {
	if opts.NodeName == "" {
		return nil, errors.New("kubeletsim: Options.NodeName is required")
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	n := &Node{
		name:     opts.NodeName,
		log:      opts.Logger.WithValues("node", opts.NodeName),
		clock:    opts.Clock,
		conns:    connrotation.NewConnectionTracker(),
		runtime:  newContainerRuntime(opts.Clock),
		handlers: newHandlerTable(opts.DefaultHandler),
		records:  newExecRecorder(opts.RecordLimit),
		queue: workqueue.NewTypedRateLimitingQueue[string](
			workqueue.DefaultTypedControllerRateLimiter[string]()),
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	if err := n.start(ctx, runCtx, cfg, opts); err != nil {
		n.Stop()
		return nil, fmt.Errorf("kubeletsim: starting node %s: %w", opts.NodeName, err)
	}
	n.log.Info("Node started", "port", n.server.port(), "workers", opts.Workers)
	return n, nil
}

func (n *Node) start(ctx, runCtx context.Context, cfg *rest.Config, opts Options) error {
	var err error
	if n.client, err = kubernetes.NewForConfig(n.clientConfig(cfg)); err != nil {
		return err
	}
	if n.pods, err = newPodWatch(n.client, n.name, opts.Namespaces, opts.Schedule, n.enqueue); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/{namespace}/{pod}/{container}", n.serveExec)
	mux.HandleFunc("/exec/{namespace}/{pod}/{uid}/{container}", n.serveExec)
	if n.server, err = startKubeletServer(n.log, mux); err != nil {
		return err
	}
	if err := n.register(ctx); err != nil {
		return err
	}
	n.pods.start(runCtx)
	if err := n.pods.waitForSync(ctx); err != nil {
		return fmt.Errorf("syncing pod caches: %w", err)
	}
	for range opts.Workers {
		n.workers.Go(func() { n.runWorker(runCtx) })
	}
	return nil
}

// clientConfig gives the node a client of its own: rate limits fit for 10,000 pods
// (client-go's default of 5 requests/s would take half an hour to start them), protobuf,
// and connections that Stop can close, so no goroutine of the node outlives it.
func (n *Node) clientConfig(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 1000, 2000
	c.RateLimiter = nil
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	c.UserAgent = "kubeletsim/" + n.name
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	c.Dial = connrotation.NewDialerWithTracker(dialer.DialContext, n.conns).DialContext
	return c
}

// Stop stops the node: no more pod syncs, execs in flight end (their handlers' contexts
// are cancelled and their connections closed), and every goroutine the node started has
// returned when Stop does. The Node object and the pods stay in the API server. Stop is
// idempotent.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		n.cancel()
		n.queue.ShutDown()
		n.workers.Wait()
		if n.pods != nil {
			n.pods.shutdown()
		}
		if n.server != nil {
			n.server.shutdown()
		}
		n.conns.CloseAll()
		n.log.Info("Node stopped")
	})
}

// Name is the Node object's name.
func (n *Node) Name() string { return n.name }

// Port is where the API server reaches the node's exec endpoint on 127.0.0.1.
func (n *Node) Port() int { return n.server.port() }

// register creates the Node (or takes over an existing one of that name) and reports it
// Ready at this server's port.
func (n *Node) register(ctx context.Context) error {
	nodes := n.client.CoreV1().Nodes()
	_, err := nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: n.name,
		Labels: map[string]string{
			corev1.LabelHostname:   n.name,
			corev1.LabelOSStable:   goruntime.GOOS,
			corev1.LabelArchStable: goruntime.GOARCH,
			LabelSimulated:         "true",
		},
	}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating node: %w", err)
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		node.Status = n.nodeStatus(node.Status.Conditions)
		_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

func (n *Node) nodeStatus(old []corev1.NodeCondition) corev1.NodeStatus {
	now := metav1.NewTime(n.clock.Now())
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("100000"),
	}
	condition := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: t, Status: s, Reason: reason, LastHeartbeatTime: now, LastTransitionTime: now}
		for _, o := range old {
			if o.Type == t && o.Status == s {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		return c
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			condition(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"),
			condition(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"),
			condition(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"),
			condition(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"),
		},
		// InternalIP only: the API server prefers a Hostname address, and the node's
		// name does not resolve.
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{
			KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(n.server.port())},
		},
		NodeInfo: corev1.NodeSystemInfo{
			OperatingSystem:         goruntime.GOOS,
			Architecture:            goruntime.GOARCH,
			KubeletVersion:          "v1.37.2-kubeletsim",
			ContainerRuntimeVersion: "kubeletsim://1",
		},
	}
}
