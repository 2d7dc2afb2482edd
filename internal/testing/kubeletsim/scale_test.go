package kubeletsim_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The scale spec is opt-in (minutes, not seconds): KUBELETSIM_SCALE_PODS=10000.
var _ = Describe("Scale", Label("scale"), func() {
	It("runs and deletes many pods without a goroutine per pod", func(ctx SpecContext) {
		count, _ := strconv.Atoi(os.Getenv("KUBELETSIM_SCALE_PODS"))
		if count <= 0 {
			Skip("set KUBELETSIM_SCALE_PODS to run")
		}
		fast := rest.CopyConfig(cfg)
		fast.QPS, fast.Burst = 2000, 4000
		client, err := kubernetes.NewForConfig(fast)
		Expect(err).NotTo(HaveOccurred())
		ns := newNamespace(ctx)

		start := time.Now()
		parallel(ctx, count, func(ctx context.Context, i int) error {
			nodeName := simNodeName
			if i%10 == 0 {
				nodeName = "" // one in ten goes through binding
			}
			_, err := client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%05d", i)},
				Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{
					{Name: "app", Image: "busybox:1.36"},
				}},
			}, metav1.CreateOptions{})
			return err
		})
		created := time.Since(start)

		maxGoroutines := 0
		Eventually(func(g Gomega) {
			maxGoroutines = max(maxGoroutines, runtime.NumGoroutine())
			pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			g.Expect(err).NotTo(HaveOccurred())
			running := 0
			for _, p := range pods.Items {
				if p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 {
					running++
				}
			}
			g.Expect(running).To(Equal(count))
		}).WithContext(ctx).WithTimeout(20 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		running := time.Since(start)

		Expect(client.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})).To(Succeed())
		Eventually(func(g Gomega) {
			maxGoroutines = max(maxGoroutines, runtime.NumGoroutine())
			pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods.Items).To(BeEmpty())
		}).WithContext(ctx).WithTimeout(20 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())

		AddReportEntry("scale", fmt.Sprintf("%d pods: created in %s, all Running after %s, all deleted after %s; at most %d goroutines in the test binary",
			count, created.Round(time.Second), running.Round(time.Second), time.Since(start).Round(time.Second), maxGoroutines))
		Expect(maxGoroutines).To(BeNumerically("<", 2000))
	}, NodeTimeout(45*time.Minute))
})

// parallel runs f for 0..n-1 on 32 goroutines and fails the spec on the first error.
func parallel(ctx context.Context, n int, f func(context.Context, int) error) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			defer GinkgoRecover()
			for i := range next {
				Expect(f(ctx, i)).To(Succeed())
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
