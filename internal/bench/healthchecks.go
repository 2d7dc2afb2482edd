package bench

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// checkSpec is what the benchmarks vary in a HealthCheck.
type checkSpec struct {
	interval time.Duration
	timeout  time.Duration
	retries  int32
}

// createHealthCheck creates a HealthCheck selecting the pods labelled selector, whose
// test is ["CMD", "true"] (the node answers every exec with exit 0 unless a test scripts
// a container).
func createHealthCheck(ctx context.Context, c client.Client, namespace, name string, selector map[string]string, spec checkSpec) error {
	hc := &v1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.HealthCheckSpec{
			Selector: metav1.LabelSelector{MatchLabels: selector},
			Test:     []string{v1alpha1.TestCmd, "true"},
			Interval: &metav1.Duration{Duration: spec.interval},
			Timeout:  &metav1.Duration{Duration: spec.timeout},
			Retries:  ptr.To(spec.retries),
		},
	}
	return c.Create(ctx, hc)
}

// listHealthChecks reads every HealthCheck of namespace, status included, from the API
// server (the bench's client has no cache).
func listHealthChecks(ctx context.Context, c client.Client, namespace string) ([]v1alpha1.HealthCheck, error) {
	var list v1alpha1.HealthCheckList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// deleteHealthChecks deletes every HealthCheck of namespace, so that its monitors stop
// and the next phase has the exec path to itself.
func deleteHealthChecks(ctx context.Context, c client.Client, namespace string) error {
	return c.DeleteAllOf(ctx, &v1alpha1.HealthCheck{}, client.InNamespace(namespace))
}

// targetsReported counts the targets of the HealthChecks of namespace whose status the
// operator has written: a target shows up once its monitor runs.
func targetsReported(ctx context.Context, c client.Client, namespace string) (int, error) {
	hcs, err := listHealthChecks(ctx, c, namespace)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range hcs {
		n += len(hcs[i].Status.Targets)
	}
	return n, nil
}
