// Package controllers runs dockprobe's HealthCheck controller: it turns each HealthCheck
// into one prober monitor per selected pod and reports their health in the HealthCheck's
// status, as Events and as metrics.
//
// What it owns:
//   - Target selection (targets.go, pure): which pods a HealthCheck selects, which of their
//     containers is checked, and whether a monitor should run (pod Running, container running).
//   - Monitor lifecycle: prober.Manager.Ensure/Stop from the reconciler, seeded from the
//     stored status after an operator restart so that health does not flap to starting.
//   - The health store (store.go): the prober's Sink. It keeps the latest health of every
//     target, queues Events for status changes and wakes the reconciler. It is the only
//     state shared between monitor goroutines and the reconciler; every method locks, and
//     no lock is held across an API call or a wait.
//   - Status (status.go, budget.go, coalesce.go, pure): aggregation and conditions, a byte
//     budget that shortens old outputs first, and the decision of when to write.
//   - Writing status by a JSON merge patch of the status subresource (never
//     update-then-refetch), Events through the manager's events.k8s.io recorder, and the
//     dockprobe_targets gauge.
//
// Trade-offs:
//   - Writes are coalesced: a status transition (a target's status, a new container, a
//     target added or removed, a spec change) is written within MinWriteInterval; results
//     that change only the log or the failing streak wait for FlushPeriod. A HealthCheck
//     whose computed status equals the last one written costs no write at all.
//   - Pods are read from a cache stripped to the fields this package uses (podtransform.go),
//     so memory grows slowly with the number of pods.
//   - Only the leader probes and writes; a new leader resumes from the written status.
package controllers
