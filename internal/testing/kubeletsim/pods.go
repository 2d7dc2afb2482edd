package kubeletsim

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// podWatch is the node's view of pods: the ones bound to it and, when it schedules, the
// ones bound to no node yet. Both feed one workqueue of "namespace/name" keys.
type podWatch struct {
	factories []informers.SharedInformerFactory
	bound     []cache.Store
	unbound   []cache.Store
}

// newPodWatch sets up one informer per namespace (one for all when namespaces is empty)
// and per selector, filtered by the API server so the node never caches other nodes' pods.
func newPodWatch(client kubernetes.Interface, nodeName string, namespaces []string, schedule bool, enqueue func(any)) (*podWatch, error) {
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	w := &podWatch{}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}
	add := func(ns, selector string) (cache.Store, error) {
		f := informers.NewSharedInformerFactoryWithOptions(client, 0,
			informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }),
			informers.WithTransform(dropManagedFields))
		inf := f.Core().V1().Pods().Informer()
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, err
		}
		w.factories = append(w.factories, f)
		return inf.GetStore(), nil
	}
	for _, ns := range namespaces {
		s, err := add(ns, fields.OneTermEqualSelector("spec.nodeName", nodeName).String())
		if err != nil {
			return nil, err
		}
		w.bound = append(w.bound, s)
		if schedule {
			s, err := add(ns, fields.OneTermEqualSelector("spec.nodeName", "").String())
			if err != nil {
				return nil, err
			}
			w.unbound = append(w.unbound, s)
		}
	}
	return w, nil
}

func (w *podWatch) start(ctx context.Context) {
	for _, f := range w.factories {
		f.StartWithContext(ctx)
	}
}

func (w *podWatch) waitForSync(ctx context.Context) error {
	for _, f := range w.factories {
		if res := f.WaitForCacheSyncWithContext(ctx); res.AsError() != nil {
			return res.AsError()
		}
	}
	return nil
}

// shutdown waits for the informers' goroutines; their context must be done.
func (w *podWatch) shutdown() {
	for _, f := range w.factories {
		f.Shutdown()
	}
}

// get returns the cached pod for key (shared: never mutate it), preferring its bound
// version while the two informers disagree during a binding.
func (w *podWatch) get(key string) *corev1.Pod {
	for _, stores := range [][]cache.Store{w.bound, w.unbound} {
		for _, s := range stores {
			if obj, ok, _ := s.GetByKey(key); ok {
				return obj.(*corev1.Pod)
			}
		}
	}
	return nil
}

// dropManagedFields saves memory at 10,000 pods; nothing here reads managed fields.
func dropManagedFields(obj any) (any, error) {
	if a, err := meta.Accessor(obj); err == nil {
		a.SetManagedFields(nil)
	}
	return obj, nil
}

func (n *Node) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		n.log.Error(err, "Cannot key pod")
		return
	}
	n.queue.Add(key)
}

// runWorker drains the queue until it shuts down. A failed sync is retried with backoff;
// a conflict is expected (the informer has a newer pod on its way) and logged quietly.
func (n *Node) runWorker(ctx context.Context) {
	for {
		key, shutdown := n.queue.Get()
		if shutdown {
			return
		}
		if err := n.syncPod(ctx, key); err != nil {
			if apierrors.IsConflict(err) || ctx.Err() != nil {
				n.log.V(1).Info("Retrying pod sync", "pod", key, "error", err.Error())
			} else {
				n.log.Error(err, "Pod sync failed, retrying", "pod", key)
			}
			n.queue.AddRateLimited(key)
		} else {
			n.queue.Forget(key)
		}
		n.queue.Done(key)
	}
}

// syncPod makes the API server's view of one pod match the simulated runtime.
func (n *Node) syncPod(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key this node made; nothing to retry
	}
	pk := podKey{ns, name}
	pod := n.pods.get(key)
	switch {
	case pod == nil:
		n.runtime.forget(pk).fire(errPodGone)
		return nil
	case pod.Spec.NodeName == "":
		return n.bind(ctx, pod)
	case pod.Spec.NodeName != n.name:
		return nil
	}
	snap, stale := n.runtime.ensure(pod)
	stale.fire(errPodGone)
	if pod.DeletionTimestamp != nil {
		return n.terminate(ctx, pod)
	}
	return n.writeStatus(ctx, pod, snap)
}

func (n *Node) bind(ctx context.Context, pod *corev1.Pod) error {
	if pod.DeletionTimestamp != nil {
		return nil
	}
	err := n.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: n.name},
	}, metav1.CreateOptions{})
	switch {
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil // deleted, or bound by someone else meanwhile
	case err != nil:
		return fmt.Errorf("binding pod: %w", err)
	}
	n.log.V(1).Info("Pod bound", "pod", podRef(pod))
	return nil
}

// terminate does what a kubelet does with a pod that has a deletionTimestamp: kill its
// containers, report them terminated, then finish the deletion with grace period 0.
func (n *Node) terminate(ctx context.Context, pod *corev1.Pod) error {
	snap, cancels, ok := n.runtime.terminate(podKey{pod.Namespace, pod.Name}, pod.UID)
	cancels.fire(errPodTerminating)
	if !ok {
		return nil
	}
	if err := n.writeStatus(ctx, pod, snap); err != nil {
		return err
	}
	if pod.DeletionGracePeriodSeconds != nil && *pod.DeletionGracePeriodSeconds == 0 {
		return nil // already asked; a finalizer is holding the pod
	}
	err := n.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone already, or a new pod with the same name
	}
	if err == nil {
		n.log.V(1).Info("Pod deleted", "pod", podRef(pod))
	}
	return err
}

// writeStatus writes the status computed from snap if it differs from pod's. pod is not
// modified. The write carries pod's resourceVersion: a status computed from stale runtime
// state loses with a conflict instead of overwriting a newer one.
func (n *Node) writeStatus(ctx context.Context, pod *corev1.Pod, snap podSnapshot) error {
	desired := desiredStatus(pod, snap, nodeIP, n.runtime.now())
	if equality.Semantic.DeepEqual(pod.Status, desired) {
		return nil
	}
	updated := pod.DeepCopy()
	updated.Status = desired
	_, err := n.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// publish writes the runtime's state of one pod now, reading the pod from the API server
// rather than from the informer so the caller knows the write happened when it returns.
func (n *Node) publish(ctx context.Context, key podKey) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := n.client.CoreV1().Pods(key.namespace).Get(ctx, key.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		snap, ok := n.runtime.snapshot(key)
		if !ok || snap.uid != pod.UID {
			return fmt.Errorf("pod %s: %w", key, errPodUnknown)
		}
		return n.writeStatus(ctx, pod, snap)
	})
}

func podRef(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }
