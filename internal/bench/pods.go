package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// createWorkers is how many pods are created at once: the API server on 2 cores does a
// few hundred writes a second, and one creator at a time would not reach that.
const createWorkers = 16

// podSet is a batch of benchmark pods: names prefix-0 .. prefix-(n-1) in namespace, all
// labelled with labels.
type podSet struct {
	namespace string
	prefix    string
	first, n  int
	labels    map[string]string
}

func (p podSet) name(i int) string { return fmt.Sprintf("%s-%d", p.prefix, p.first+i) }

// ensureNamespace creates namespace if it does not exist.
func ensureNamespace(ctx context.Context, kube kubernetes.Interface, namespace string) error {
	_, err := kube.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// createPods creates the pods of set with createWorkers creators. With spread > 0 the
// creations are paced evenly over spread, so that the pods' containers start (and their
// monitors' schedules begin) spread out in time, as real containers would, rather than
// all in the same second.
func createPods(ctx context.Context, kube kubernetes.Interface, set podSet, spread time.Duration) error {
	if err := ensureNamespace(ctx, kube, set.namespace); err != nil {
		return err
	}
	limiter := rate.NewLimiter(rate.Inf, 0)
	if spread > 0 && set.n > 1 {
		limiter = rate.NewLimiter(rate.Limit(float64(set.n)/spread.Seconds()), 1)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range min(createWorkers, set.n) {
		wg.Go(func() {
			for i := range next {
				if err := createPod(ctx, kube, set, i); err != nil {
					mu.Lock()
					firstErr = firstError(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range set.n {
		if limiter.Wait(ctx) != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func firstError(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func createPod(ctx context.Context, kube kubernetes.Interface, set podSet, i int) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: set.name(i), Namespace: set.namespace, Labels: set.labels},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/bench:1"}},
		},
	}
	return wait.ExponentialBackoffWithContext(ctx, wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 6},
		func(ctx context.Context) (bool, error) {
			_, err := kube.CoreV1().Pods(set.namespace).Create(ctx, pod, metav1.CreateOptions{})
			switch {
			case err == nil, apierrors.IsAlreadyExists(err):
				return true, nil
			case apierrors.IsTooManyRequests(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err):
				return false, nil // the API server is shedding load: retry
			default:
				return false, fmt.Errorf("creating pod %s/%s: %w", set.namespace, set.name(i), err)
			}
		})
}

// waitRunning waits until at least n pods of namespace matching selector are Running.
func waitRunning(ctx context.Context, kube kubernetes.Interface, namespace string, selector map[string]string, n int, timeout time.Duration) error {
	sel := labels.SelectorFromSet(selector).String()
	return wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		// ResourceVersion "0" is served from the API server's watch cache: cheap at 10,000.
		list, err := kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel, ResourceVersion: "0"})
		if err != nil {
			return false, nil
		}
		running := 0
		for i := range list.Items {
			if list.Items[i].Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running >= n, nil
	})
}
