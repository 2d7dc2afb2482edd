package kubeletsim_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/dockprobe/dockprobe/internal/testing/envtestenv"
	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// Windows are generous: the API server, etcd and the tests share 2 cores.
const (
	eventually = 60 * time.Second
	poll       = 100 * time.Millisecond
)

const simNodeName = "sim-node"

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	clientset kubernetes.Interface
	node      *kubeletsim.Node
)

func TestKubeletsim(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kubeletsim suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	// client-go and cri-streaming report through klog; keep that with each spec's output.
	klog.SetLogger(GinkgoLogr)
	logf.SetLogger(GinkgoLogr)

	var err error
	testEnv, cfg, err = envtestenv.Start()
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())

	node, err = kubeletsim.Start(ctx, cfg, kubeletsim.Options{
		NodeName: simNodeName,
		Schedule: true,
		Logger:   GinkgoLogr,
	})
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(5*time.Minute))

var _ = AfterSuite(func() {
	if node != nil {
		node.Stop()
		// Every goroutine the node started has returned: none runs code of the package.
		Eventually(packageGoroutines).WithTimeout(eventually).Should(BeEmpty())
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// packageGoroutines lists the stacks of goroutines running kubeletsim's own code.
func packageGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/testing/kubeletsim.") {
			found = append(found, g)
		}
	}
	return found
}

// newNamespace gives a spec a namespace of its own. envtest has no namespace controller to
// delete it, so it is left behind.
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kubeletsim-" + rand.String(6)}}
	_, err := clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return ns.Name
}

// createPod creates a pod with one busybox container per name, bound to nodeName (or to
// no node when nodeName is empty).
func createPod(ctx context.Context, ns, name, nodeName string, containers ...string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{NodeName: nodeName},
	}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "busybox:1.36"})
	}
	created, err := clientset.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return created
}

// waitRunning waits for the pod to be Running with every container running, and returns it.
func waitRunning(ctx context.Context, ns, name string) *corev1.Pod {
	var pod *corev1.Pod
	Eventually(func(g Gomega) {
		var err error
		pod, err = clientset.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning))
		g.Expect(pod.Status.ContainerStatuses).To(HaveLen(len(pod.Spec.Containers)))
		for _, cs := range pod.Status.ContainerStatuses {
			g.Expect(cs.State.Running).NotTo(BeNil(), "container %s", cs.Name)
		}
	}).WithContext(ctx).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
	return pod
}

func containerStatus(pod *corev1.Pod, name string) corev1.ContainerStatus {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	Fail(fmt.Sprintf("pod %s has no status for container %s", pod.Name, name))
	return corev1.ContainerStatus{}
}

// syncBuffer is one buffer for both stdout and stderr: client-go writes them from two
// goroutines, and an unlocked bytes.Buffer loses output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// transport is how the client reaches pods/exec.
type transport string

const (
	fallback  transport = "WebSocket, falling back to SPDY"
	webSocket transport = "WebSocket only"
	spdy      transport = "SPDY only"
)

var transports = []transport{fallback, webSocket, spdy}

func execURL(ns, pod, container string, cmd []string) *url.URL {
	return clientset.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container, Command: cmd, Stdout: true, Stderr: true,
		}, scheme.ParameterCodec).URL()
}

func newExecutor(t transport, u *url.URL) (remotecommand.Executor, error) {
	switch t {
	case webSocket:
		return remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	case spdy:
		return remotecommand.NewSPDYExecutor(cfg, "POST", u)
	}
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	if err != nil {
		return nil, err
	}
	sp, err := remotecommand.NewSPDYExecutor(cfg, "POST", u)
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, sp, httpstream.IsUpgradeFailure)
}

// execIn runs cmd in a container through the API server and returns stdout and stderr
// together.
func execIn(ctx context.Context, t transport, ns, pod, container string, cmd ...string) (string, error) {
	exec, err := newExecutor(t, execURL(ns, pod, container, cmd))
	if err != nil {
		return "", err
	}
	var out syncBuffer
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &out})
	return out.String(), err
}
