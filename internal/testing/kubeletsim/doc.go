// Package kubeletsim is a simulated Kubernetes node for tests that run against a real
// kube-apiserver (envtest) but have no kubelet.
//
// What it owns:
//   - A Node object ([Start] registers it) whose status points the API server at an
//     in-process HTTPS server on 127.0.0.1. That server implements the kubelet's
//     /exec/{namespace}/{pod}/{container} endpoint with cri-streaming's ServeExec, so
//     pods/exec through the API server (WebSocket or SPDY on the client side) reaches it
//     as it would reach a kubelet, and a handler's exit code N comes back to the client as
//     client-go's exit error with ExitStatus() == N.
//   - A simulated container runtime: every container of every pod bound to the node gets
//     a containerd-style ID, a start time and a restart count, and the pod's status is
//     written through the API server (phase Running, Ready, containerStatuses). Tests
//     crash, stop and start containers with [Node.RestartContainer], [Node.StopContainer]
//     and [Node.StartContainer], which return once the API server has the new status.
//   - Pod deletion as a kubelet does it: containers terminated, then the pod deleted with
//     grace period 0 (envtest would otherwise keep it Terminating forever). Execs running
//     in a terminated, stopped or restarted container end with an error, never a success,
//     and new ones are refused.
//   - Optionally the scheduler's job (Options.Schedule): pods with no spec.nodeName are
//     bound to this node with pods/binding.
//   - Scripted exec answers: a [Handler] per container ([Node.SetHandler]), per container
//     name in every pod ([Node.SetContainerHandler]) or for the whole node
//     ([Node.SetDefaultHandler]); ready-made ones ([Reply], [ReplyStreams], [Func],
//     [Delay], [Hang], [PrintThenHang], [Sequence], [Cycle]); and [LocalProcess], which
//     runs the command for real.
//   - Counters for assertions: [Node.Execs] per container, [Node.InFlight] and its
//     high-water mark [Node.MaxInFlight], and a bounded log of [ExecRecord]s.
//
// Trade-offs:
//   - Scale over fidelity: one informer per watched namespace feeds a rate-limited
//     workqueue drained by a fixed pool of workers, so pods cost no goroutines of their
//     own (10,000 pods were measured Running within 30s on 2 cores). Status is recomputed
//     from the runtime state on every event and written only when it differs, with the
//     pod's resourceVersion, so a write computed from stale state loses on conflict and is
//     retried instead of overwriting a newer one.
//   - No probes, no restarts on its own, no resources: a stopped container stays stopped
//     until the test starts it, and every running container is ready.
//   - The API server does not verify a kubelet's serving certificate unless it was given a
//     kubelet CA (envtest is not), so the server uses a throwaway self-signed one. It
//     speaks HTTP/1.1 only: connection upgrades cannot ride HTTP/2.
//   - A handler's context ends when the API server closes the exec's connection (it does
//     when the client cancels, over WebSocket as over SPDY), when the container stops or
//     restarts, when the pod terminates, or when the node stops. A handler must return
//     once its context is done: [Node.Stop] waits for it.
//   - [Node.Stop] leaves the Node object and the pods in the API server: nothing in envtest
//     would notice a kubelet that went away anyway.
package kubeletsim
