package bench

import (
	"bytes"
	"context"

	"k8s.io/client-go/kubernetes"
)

// The API server counts every request it served in apiserver_request_total, by verb,
// resource and subresource. Counting writes there sees the operator's every write,
// whatever client, retry or patch strategy it uses, and needs no hook in the operator:
// only the operator writes healthchecks/status.
const apiserverRequests = "apiserver_request_total"

// writeVerbs are the verbs that change an object (APPLY is server-side apply).
var writeVerbs = []string{"POST", "PUT", "PATCH", "APPLY"}

// writeCounts are the API server's write counters that the benchmarks compare.
type writeCounts struct {
	status float64 // healthchecks/status
	events float64 // events, core and events.k8s.io
}

func (a writeCounts) minus(b writeCounts) writeCounts {
	return writeCounts{status: a.status - b.status, events: a.events - b.events}
}

func scrapeAPIServer(ctx context.Context, kube kubernetes.Interface) (metricSet, error) {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return parseMetrics(bytes.NewReader(raw))
}

func apiWrites(ctx context.Context, kube kubernetes.Interface) (writeCounts, error) {
	ms, err := scrapeAPIServer(ctx, kube)
	if err != nil {
		return writeCounts{}, err
	}
	var w writeCounts
	for _, verb := range writeVerbs {
		w.status += ms.sum(apiserverRequests, map[string]string{
			"verb": verb, "resource": "healthchecks", "subresource": "status"})
		w.events += ms.sum(apiserverRequests, map[string]string{"verb": verb, "resource": "events"})
	}
	return w, nil
}
