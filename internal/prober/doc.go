// Package prober is dockprobe's probe engine: Docker's HEALTHCHECK monitor, one per target
// container, running its check through the API server (pods/exec).
//
// # What it owns
//
//   - The monitor loop of one target (monitor.go: run is the loop, doProbe the step), as
//     moby's daemon/health.go monitor: no probe at t=0, the wait counted from the end of one
//     probe to the start of the next, StartInterval while inside StartPeriod and still
//     starting, Interval otherwise.
//   - One probe (probe.go), as moby's cmdProbe.run: wait for an exec slot, exec, 30s for the
//     exec to start ("timed out starting health check for container <id>"), then the
//     timeout from that start ("Health check exceeded timeout (%v)[: <output>]"), stdout and
//     stderr in one buffer capped at 4096 bytes plus "..." (buffer.go); an error running the
//     probe is ExitCode -1 with the error's text.
//   - The state machine (state.go), as moby's handleProbeResult: a log of 5, the failing
//     streak, retries <= 0 meaning 3, the start period protecting only until the first
//     success. apply and nextWait are pure; tests backdate times.
//   - The Manager (manager.go): start, replace and stop monitors by Key, idempotently.
//   - The cap on execs in flight (limiter.go), because pods/exec bypasses API Priority and
//     Fairness; FIFO, so thousands of monitors share it fairly.
//   - Metrics (metrics.go) and the API-server Execer (exec_apiserver.go).
//
// It does not own which pods are targets, the HealthCheck status or events: the controller
// does, fed by the Sink.
//
// # Who owns each piece of state
//
//   - A monitor's health (status, streak, log) and its straggler belong to its goroutine
//     alone. The goroutine publishes value copies: to an atomic pointer read by
//     Manager.Snapshot, and to the Sink. The next monitor of the same Key reads the final
//     health only after the goroutine has ended.
//   - The state of one probe (timers, output buffer, exec goroutine) lives on the monitor
//     goroutine's stack for the probe's duration: an idle monitor is a goroutine blocked
//     on one timer, with no buffer.
//   - The Manager's map of monitors is guarded by one unexported mutex that is never held
//     while waiting for a monitor, an exec, an API call or the Sink.
//   - The limiter and the metrics are safe for concurrent use; the prober and the Execer
//     are read-only after construction.
//
// # Exported API, and what the controller must know
//
//   - ConfigFromSpec(spec) gives the Config (defaults applied; Equal compares after
//     defaults). Target is one container instance (ContainerID changes on restart;
//     StartedAt is state.running.startedAt; Windows selects cmd /S /C). Key is
//     HealthCheck (Namespace/Owner) x Pod.
//   - Manager.Ensure(key, spec, seed): no monitor: start one, from *seed if given (resume
//     after an operator restart with the same ContainerID: no flap to starting), else
//     starting. Same Spec: no-op (seed ignored). New ContainerID or new Config: replace;
//     starting, streak 0, log kept, as Docker does on a container start. Other Target
//     changes (StartedAt): replace, health kept. A replacement cancels the old monitor's
//     probe in flight (its result is dropped) and does not probe before the old monitor
//     has ended, then waits a full first wait. A disabled Config (["NONE"]) is Stop, since
//     Docker runs no monitor then. Ensure never blocks, except on NONE.
//   - Stop(key) and StopOwner(namespace, owner) cancel probes in flight and wait for the
//     monitors to end (execs included); idempotent. No Update for a Key arrives after its
//     Stop returns. Start(ctx) is a controller-runtime Runnable (leader election only):
//     it stops everything when ctx is done; Ensure is a no-op afterwards.
//   - Snapshot(key) returns a copy of the last published state; Keys lists monitors.
//   - The Sink is called from monitor goroutines and must not block. One Key's Updates
//     come from one goroutine at a time, in order (through replacements too); different
//     Keys call it concurrently. An Update follows every (re)start (Result nil; Previous
//     is "" for a fresh or seeded monitor, else the replaced monitor's last status) and
//     every probe result (Result set; it is also the newest Log entry). StatusChanged is
//     Docker's health_status event: Health.Status != Previous and Previous != "". Each
//     Update's Health is the receiver's own copy (it may shorten outputs in place).
//   - Options.MaxInFlight (default 32) caps execs across the Manager; Options.Registerer
//     (default controller-runtime's registry) receives the metrics, sharing them when
//     registered twice.
//
// # How "exec started" is detected
//
// Docker starts the probe timeout when containerd reports the exec process started.
// client-go reports no such event, so NewAPIServerExecer uses the last signal each
// protocol offers before the command runs:
//
//   - WebSocket (tried first): a round tripper placed innermost around client-go's
//     WebSocket dialer (through rest.Config.WrapTransport on a per-exec copy) sees the
//     101 Switching Protocols. The API server sends it after authentication,
//     authorization and admission, and before it dials the kubelet (it translates
//     WebSocket to SPDY towards the kubelet), so the kubelet connection and the runtime's
//     exec start count against the timeout.
//   - SPDY (fallback when the WebSocket upgrade fails): the executor is built with
//     NewSPDYExecutorForTransports and an upgrader wrapper that sees the 101 and builds the
//     connection. The API server proxies that response from the kubelet, so it means the
//     kubelet accepted the exec; only the runtime's start of the process is left.
//
// Either way the signal comes somewhat before Docker's (milliseconds to the kubelet and
// runtime, more on a loaded node), so a probe may time out slightly earlier than under
// Docker. An exec that fails before the signal is bounded by the 30s start deadline.
//
// # Deliberate differences from Docker, forced by Kubernetes
//
//   - A timed-out probe's process keeps running in the container: closing a pods/exec
//     stream does not kill it (kubernetes#89031). The probe cancels the stream, waits at
//     most 5s for the client side to end, then reports the timeout. An exec that outlives
//     that keeps its in-flight slot, and the monitor waits for it before probing again, so
//     one target never has two probes in flight.
//   - The wait for an exec slot is counted against neither the start deadline nor the
//     timeout, and Result.Start is when the probe got its slot (Docker has no queue). The
//     interval still runs from the end of the previous probe.
//   - dockprobe_health_checks_failed_total counts probe timeouts as well as exec errors
//     and start deadlines (Docker's failed counter misses timeouts).
//   - pods/exec targets a container by name, not by ID: a probe racing a container restart
//     may run in the new instance. The controller's Ensure with the new ContainerID
//     cancels it and drops its result.
//   - The shell comes from spec.shell (Kubernetes does not expose the image's SHELL), else
//     /bin/sh -c, or cmd /S /C when the pod's spec.os.name is windows.
//   - A monitor resumed from a seed keeps its status and streak (Docker's daemon restore
//     resets to starting): an operator restart must not flap health.
//   - A new Config replaces the monitor as a container start would (Docker cannot change
//     a running container's health check).
//   - Exit codes come from the kubelet, 0 to 255.
package prober
