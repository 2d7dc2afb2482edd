package kubeletsim_test

import (
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

var _ = Describe("Node", func() {
	It("registers a Ready node the API server reaches on 127.0.0.1", func(ctx SpecContext) {
		n, err := clientset.CoreV1().Nodes().Get(ctx, simNodeName, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(n.Labels).To(HaveKeyWithValue(kubeletsim.LabelSimulated, "true"))
		Expect(n.Status.Addresses).To(ConsistOf(corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}))
		Expect(n.Status.DaemonEndpoints.KubeletEndpoint.Port).To(BeEquivalentTo(node.Port()))
		Expect(n.Status.Conditions).To(ContainElement(And(
			HaveField("Type", corev1.NodeReady), HaveField("Status", corev1.ConditionTrue))))
	})
})

var _ = Describe("Pods", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) { ns = newNamespace(ctx) })

	It("runs a pod bound to the node", func(ctx SpecContext) {
		createPod(ctx, ns, "bound", simNodeName, "app", "sidecar")
		pod := waitRunning(ctx, ns, "bound")

		Expect(pod.Status.PodIP).NotTo(BeEmpty())
		Expect(pod.Status.HostIP).To(Equal("127.0.0.1"))
		Expect(pod.Status.Conditions).To(ContainElement(And(
			HaveField("Type", corev1.PodReady), HaveField("Status", corev1.ConditionTrue))))
		for _, cs := range pod.Status.ContainerStatuses {
			Expect(cs.ContainerID).To(MatchRegexp(`^containerd://[0-9a-f]{64}$`))
			Expect(cs.Ready).To(BeTrue())
			Expect(cs.Started).To(HaveValue(BeTrue()))
			Expect(cs.RestartCount).To(BeZero())
			Expect(cs.Image).To(Equal("busybox:1.36"))
			Expect(cs.ImageID).To(ContainSubstring("@sha256:"))
			Expect(cs.State.Running.StartedAt.IsZero()).To(BeFalse())
		}
		Expect(containerStatus(pod, "app").ContainerID).NotTo(Equal(containerStatus(pod, "sidecar").ContainerID))

		// Once written, the status is stable: no write loop against the API server.
		Consistently(func() string {
			p, err := clientset.CoreV1().Pods(ns).Get(ctx, "bound", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			return p.ResourceVersion
		}).WithContext(ctx).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal(pod.ResourceVersion))
	})

	It("binds a pod with no node to itself, then runs it", func(ctx SpecContext) {
		createPod(ctx, ns, "unbound", "", "app")
		pod := waitRunning(ctx, ns, "unbound")
		Expect(pod.Spec.NodeName).To(Equal(simNodeName))
		Expect(pod.Status.Conditions).To(ContainElement(And(
			HaveField("Type", corev1.PodScheduled), HaveField("Status", corev1.ConditionTrue))))
	})

	It("restarts, stops and starts containers as a kubelet would", func(ctx SpecContext) {
		createPod(ctx, ns, "lifecycle", simNodeName, "app")
		before := containerStatus(waitRunning(ctx, ns, "lifecycle"), "app")

		Expect(node.RestartContainer(ctx, ns, "lifecycle", "app")).To(Succeed())
		pod, err := clientset.CoreV1().Pods(ns).Get(ctx, "lifecycle", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		restarted := containerStatus(pod, "app")
		Expect(restarted.ContainerID).NotTo(Equal(before.ContainerID))
		Expect(restarted.RestartCount).To(BeEquivalentTo(1))
		Expect(restarted.State.Running).NotTo(BeNil())
		Expect(restarted.LastTerminationState.Terminated).To(HaveField("ContainerID", before.ContainerID))
		Expect(restarted.LastTerminationState.Terminated).To(HaveField("ExitCode", BeEquivalentTo(137)))

		Expect(node.StopContainer(ctx, ns, "lifecycle", "app", 2)).To(Succeed())
		pod, err = clientset.CoreV1().Pods(ns).Get(ctx, "lifecycle", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		stopped := containerStatus(pod, "app")
		Expect(stopped.Ready).To(BeFalse())
		Expect(stopped.State.Terminated).To(HaveField("ExitCode", BeEquivalentTo(2)))
		Expect(pod.Status.Conditions).To(ContainElement(And(
			HaveField("Type", corev1.PodReady), HaveField("Status", corev1.ConditionFalse))))

		Expect(node.StartContainer(ctx, ns, "lifecycle", "app")).To(Succeed())
		started := containerStatus(waitRunning(ctx, ns, "lifecycle"), "app")
		Expect(started.RestartCount).To(BeEquivalentTo(2))
		Expect(started.ContainerID).NotTo(Equal(restarted.ContainerID))
		Expect(started.Ready).To(BeTrue())
	})

	It("refuses to change containers it does not run", func(ctx SpecContext) {
		Expect(node.RestartContainer(ctx, ns, "no-such-pod", "app")).NotTo(Succeed())
	})

	It("finishes a graceful deletion, as envtest alone never would", func(ctx SpecContext) {
		createPod(ctx, ns, "doomed", simNodeName, "app")
		waitRunning(ctx, ns, "doomed")
		Expect(clientset.CoreV1().Pods(ns).Delete(ctx, "doomed", metav1.DeleteOptions{})).To(Succeed())
		Eventually(func() error {
			_, err := clientset.CoreV1().Pods(ns).Get(ctx, "doomed", metav1.GetOptions{})
			return err
		}).WithContext(ctx).WithTimeout(eventually).WithPolling(poll).Should(Satisfy(apierrors.IsNotFound))
	})
})

var _ = Describe("Stop", func() {
	It("ends execs in flight and leaves no goroutine behind", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		before := runtime.NumGoroutine()

		second, err := kubeletsim.Start(ctx, cfg, kubeletsim.Options{
			NodeName: "sim-node-stopped", Namespaces: []string{ns}, Logger: GinkgoLogr,
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(second.Stop) // a no-op once the spec has stopped it
		createPod(ctx, ns, "app", second.Name(), "app")
		waitRunning(ctx, ns, "app")
		_, err = execIn(ctx, spdy, ns, "app", "app", "true")
		Expect(err).NotTo(HaveOccurred())

		second.SetDefaultHandler(kubeletsim.Hang())
		result := make(chan error, 1)
		go func() {
			_, err := execIn(ctx, fallback, ns, "app", "app", "sleep", "forever")
			result <- err
		}()
		Eventually(second.InFlight).WithTimeout(eventually).Should(Equal(1))

		second.Stop()
		second.Stop()
		Expect(second.InFlight()).To(BeZero())
		var execErr error
		Eventually(result).WithTimeout(eventually).Should(Receive(&execErr))
		Expect(execErr).To(HaveOccurred(), "an exec cut short must not look like a success")

		Eventually(runtime.NumGoroutine).WithTimeout(eventually).WithPolling(poll).
			Should(BeNumerically("<=", before+2), func() string { return goroutineDump() })
	})
})

func goroutineDump() string {
	buf := make([]byte, 1<<22)
	return strings.TrimSpace(string(buf[:runtime.Stack(buf, true)]))
}
