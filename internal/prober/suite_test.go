package prober_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/dockprobe/dockprobe/internal/testing/envtestenv"
	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// Windows are generous: the API server, etcd, the simulated kubelet and the tests share
// 2 cores. No spec bounds wall-clock time tightly.
const (
	eventually = 60 * time.Second
	poll       = 50 * time.Millisecond
)

const simNodeName = "prober-sim-node"

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	clientset kubernetes.Interface
	node      *kubeletsim.Node
)

// TestAPIServerExec runs the envtest suite: probes through a real kube-apiserver's
// pods/exec to a simulated kubelet. -short skips it (the unit tests alone take seconds).
func TestAPIServerExec(t *testing.T) {
	if testing.Short() {
		t.Skip("envtest suite: skipped with -short")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "prober envtest suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	klog.SetLogger(GinkgoLogr) // client-go reports through klog

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
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// newNamespace gives a spec a namespace of its own (envtest never deletes it).
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prober-" + rand.String(6)}}
	_, err := clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return ns.Name
}

// runningPod creates a one-container pod on the simulated node and waits until it runs.
func runningPod(ctx context.Context, ns, name string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			NodeName:   simNodeName,
			Containers: []corev1.Container{{Name: "app", Image: "busybox:1.36"}},
		},
	}
	_, err := clientset.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	Eventually(func(g Gomega) {
		pod, err = clientset.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning))
		g.Expect(pod.Status.ContainerStatuses).To(HaveLen(1))
		g.Expect(pod.Status.ContainerStatuses[0].State.Running).NotTo(BeNil())
	}).WithContext(ctx).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
	return pod
}
