// Package devcluster starts the offline control plane that `make demo` and `make bench`
// run on: the same kube-apiserver and etcd binaries as the envtest suites (found through
// KUBEBUILDER_ASSETS or hack/envtest-assets.sh), the HealthCheck CRD installed, and a
// kubeconfig for a system:masters user that the system's kubectl can use.
//
// What it owns: the two processes and the directories it creates under Options.Dir
// (certificates and etcd data), plus the kubeconfig file. Stop ends the processes and
// removes exactly those; the caller owns Options.Dir itself.
//
// Trade-offs:
//   - envtest, not kind: no container runtime, no scheduler, no controller-manager. Pods
//     are bound and run by internal/testing/kubeletsim, and nothing creates pods from a
//     Deployment, so demos and benchmarks create bare Pods.
//   - etcd runs with --unsafe-no-fsync (envtest's default): the data is throwaway, and
//     fsync would make the API server's write rate depend on the disk rather than the CPU.
//   - The API server listens on 127.0.0.1 only, on Options.Port or a free port; either way
//     the kubeconfig and Cluster.Host say which.
package devcluster
