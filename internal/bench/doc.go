// Package bench is `make bench`: the figures of BENCHMARKS.md, measured in one run on one
// embedded control plane so that the ratios between them hold on a noisy machine.
//
// What it owns: a scratch directory (the control plane's state, the operator's binary
// and its logs), the simulated node the pods run on (in this process, answering every
// exec at once with exit 0 unless a phase scripts a container), and the operator process.
//
// The run, in order (bench.go): raw exec with client-go alone at 1, 8 and 32 in flight
// (the local ceiling); the operator saturated; schedule fidelity and steady-state API
// writes at 1,000 healthy targets; writes while every probe flips a status; then, on a
// fresh operator process, memory per idle target at 1,000 and 10,000 targets and the
// time for a HealthCheck selecting 1,000 pods to have every monitor running.
//
// Trade-offs:
//   - The operator runs as its own process, built from the repository's main package, so
//     that its heap and RSS are its own. The build adds one file through go build
//     -overlay (the tree is untouched) that serves net/http/pprof, only so that the bench
//     can force a GC before reading the heap.
//   - Writes are counted by the API server (apiserver_request_total), which needs no hook
//     in the operator and sees every write whatever the client does.
//   - Lateness comes from the results' own timestamps in the HealthChecks' status (the
//     operator's clock, microseconds), not from the node: the node sees an exec only after
//     the API server has set it up, which would add its latency to every figure.
//   - Everything shares the same CPUs; the figures are for this machine, and the report
//     says which one.
package bench
