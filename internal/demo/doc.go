// Package demo is `make demo` without the terminal: it starts, on this machine alone, the
// offline control plane (internal/devcluster), a simulated node
// (internal/testing/kubeletsim) whose containers' health checks run as real local
// processes, each pod in its own directory, and the operator in this process; then it
// applies the sample pods and HealthChecks of config/demo. hack/demo adds the flags, the
// printed instructions and Ctrl-C; the package's test drives the same Env end to end.
//
// What it owns: its working directory (Options.Dir, by default .demo/ at the repository's
// root) and everything under it: the control plane's state, the kubeconfig, and
// pods/<namespace>/<pod>/, where each pod's checks run. Stop removes it all.
//
// Trade-offs:
//   - One demo per directory: a pid file guards it. A demo that was killed (SIGKILL, a
//     crash) cannot clean up; the next Start finds its leftovers, kills the processes that
//     still run from that directory (kube-apiserver, etcd, checks) and starts afresh.
//   - Every pod on the node gets a directory, so pods created with kubectl are checked
//     like the samples; checks inherit only PATH, so they behave the same from any shell.
//   - The operator runs in-process with the real controllers and prober, wired as main.go
//     wires them but without leader election, metrics or health endpoints, so a demo never
//     fights another process over a port.
package demo
