package controllers

import (
	"context"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// waker lets the health store enqueue reconciles from monitor goroutines without
// blocking. It holds the controller's queue once the controller has started; wake-ups
// before that are dropped (every HealthCheck is reconciled when the controller starts).
type waker struct {
	queue atomic.Pointer[workqueue.TypedRateLimitingInterface[reconcile.Request]]
}

func (w *waker) start(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	w.queue.Store(&q)
	return nil
}

// kick adds owner to the queue: Add never blocks (the queue deduplicates).
func (w *waker) kick(owner types.NamespacedName) {
	if q := w.queue.Load(); q != nil {
		(*q).Add(reconcile.Request{NamespacedName: owner})
	}
}
