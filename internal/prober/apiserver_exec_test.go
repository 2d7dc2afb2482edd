package prober_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// targetOf is the probe target for a pod's only container, as the controller builds it.
func targetOf(pod *corev1.Pod) prober.Target {
	cs := pod.Status.ContainerStatuses[0]
	return prober.Target{
		Namespace:   pod.Namespace,
		Pod:         pod.Name,
		Container:   cs.Name,
		ContainerID: cs.ContainerID,
		StartedAt:   cs.State.Running.StartedAt.Time,
	}
}

// lockedBuffer is one buffer for stdout and stderr, as the prober's own.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ = Describe("The API-server Execer", func() {
	var (
		ns     string
		target prober.Target
	)
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		target = targetOf(runningPod(ctx, ns, "web"))
	})

	for _, protocol := range []string{"fallback", "websocket", "spdy"} {
		Context("over "+protocol, func() {
			var execer prober.Execer
			BeforeEach(func() {
				var err error
				execer, err = prober.NewAPIServerExecerForProtocol(cfg, protocol)
				Expect(err).NotTo(HaveOccurred())
			})

			It("returns exit codes and stdout and stderr combined", func(ctx SpecContext) {
				for _, code := range []int{0, 1, 2, 137, 255} {
					node.SetHandler(ns, "web", "app", kubeletsim.ReplyStreams(code, "to stdout\n", "to stderr\n"))
					var out lockedBuffer
					got, err := execer.Exec(ctx, target, []string{"check"}, &out, &out, func() {})
					Expect(err).NotTo(HaveOccurred())
					Expect(got).To(Equal(code))
					Expect(out.String()).To(ContainSubstring("to stdout\n"))
					Expect(out.String()).To(ContainSubstring("to stderr\n"))
				}
			})

			It("signals the exec's start before the command runs", func(ctx SpecContext) {
				var started atomic.Bool
				var startedWhenRun atomic.Bool
				node.SetHandler(ns, "web", "app", func(context.Context, kubeletsim.ExecRequest, io.Writer, io.Writer) (int, error) {
					startedWhenRun.Store(started.Load())
					return 0, nil
				})
				_, err := execer.Exec(ctx, target, []string{"check"}, io.Discard, io.Discard, func() {
					Expect(started.Swap(true)).To(BeFalse(), "started called twice")
				})
				Expect(err).NotTo(HaveOccurred())
				Expect(startedWhenRun.Load()).To(BeTrue(), "the command ran before started was called")
			})

			It("passes the argv unchanged", func(ctx SpecContext) {
				got := make(chan []string, 1)
				node.SetHandler(ns, "web", "app", kubeletsim.Func(func(req kubeletsim.ExecRequest) (int, string) {
					got <- req.Cmd
					return 0, ""
				}))
				argv := []string{"/bin/sh", "-c", `test "$(cat /status)" = "OK" && echo 'a b'`}
				_, err := execer.Exec(ctx, target, argv, io.Discard, io.Discard, func() {})
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(Receive(Equal(argv)))
			})

			It("fails with -1 and the API server's error for an unknown container", func(ctx SpecContext) {
				bad := target
				bad.Container = "nope"
				code, err := execer.Exec(ctx, bad, []string{"check"}, io.Discard, io.Discard, func() {})
				Expect(code).To(Equal(-1))
				Expect(err).To(MatchError(ContainSubstring("nope")))
			})

			It("ends when its context is cancelled, and the kubelet's exec ends too", func(ctx SpecContext) {
				node.SetHandler(ns, "web", "app", kubeletsim.Hang())
				execCtx, cancel := context.WithCancel(ctx)
				defer cancel()
				started := make(chan struct{})
				done := make(chan error, 1)
				go func() {
					_, err := execer.Exec(execCtx, target, []string{"hang"}, io.Discard, io.Discard, func() { close(started) })
					done <- err
				}()
				Eventually(started).WithTimeout(eventually).Should(BeClosed())
				Eventually(node.InFlight).WithTimeout(eventually).Should(Equal(1))
				cancel()
				Eventually(done).WithTimeout(eventually).Should(Receive(HaveOccurred()))
				Eventually(node.InFlight).WithTimeout(eventually).Should(BeZero())
			})
		})
	}
})

// sinkRecorder keeps every Update; it never blocks.
type sinkRecorder struct {
	mu      sync.Mutex
	updates []prober.Update
}

func (r *sinkRecorder) sink(u prober.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, u)
}

// results returns the probe results delivered so far.
func (r *sinkRecorder) results() []prober.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []prober.Result
	for _, u := range r.updates {
		if u.Result != nil {
			out = append(out, *u.Result)
		}
	}
	return out
}

// exitAndOutput is what the specs compare of a result.
type exitAndOutput struct {
	ExitCode int
	Output   string
}

func exitsAndOutputs(rs []prober.Result) []exitAndOutput {
	out := make([]exitAndOutput, len(rs))
	for i, r := range rs {
		out[i] = exitAndOutput{r.ExitCode, r.Output}
	}
	return out
}

var _ = Describe("Probes through the API server", func() {
	var (
		ns  string
		pod *corev1.Pod
		rec *sinkRecorder
		m   *prober.Manager
		key prober.Key
	)
	// check is a config probing often, so the specs are quick.
	check := func(timeout time.Duration, retries int) prober.Config {
		return prober.Config{Test: []string{"CMD", "check"}, Interval: 100 * time.Millisecond, Timeout: timeout, Retries: retries}
	}
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		pod = runningPod(ctx, ns, "web")
		key = prober.Key{Namespace: ns, Owner: "hc", Pod: "web"}
		execer, err := prober.NewAPIServerExecer(cfg)
		Expect(err).NotTo(HaveOccurred())
		rec = &sinkRecorder{}
		m = prober.NewManager(prober.Options{
			Execer:     execer,
			Sink:       rec.sink,
			Logger:     GinkgoLogr,
			Registerer: prometheus.NewRegistry(),
		})
		runCtx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			_ = m.Start(runCtx)
		}()
		DeferCleanup(func() {
			cancel()
			<-stopped
		})
	})
	// firstResults waits for n results and returns the first n.
	firstResults := func(n int) []prober.Result {
		Eventually(func() int { return len(rec.results()) }).
			WithTimeout(eventually).WithPolling(poll).Should(BeNumerically(">=", n))
		return rec.results()[:n]
	}

	It("reports exit codes and combined output, and the health they make", func() {
		node.SetHandler(ns, "web", "app", kubeletsim.Sequence(
			kubeletsim.ReplyStreams(0, "out ", "err"),
			kubeletsim.Reply(1, "not ready\n"),
			kubeletsim.Reply(3, ""),
			kubeletsim.Reply(1, ""),
		))
		m.Ensure(key, prober.Spec{Config: check(time.Minute, 3), Target: targetOf(pod)}, nil)
		rs := firstResults(4)
		Expect(rs[0].ExitCode).To(Equal(0))
		Expect(rs[0].Output).To(SatisfyAny(Equal("out err"), Equal("errout ")))
		Expect(exitsAndOutputs(rs[1:])).To(Equal([]exitAndOutput{{1, "not ready\n"}, {3, ""}, {1, ""}}))
		h, _, ok := m.Snapshot(key)
		Expect(ok).To(BeTrue())
		Expect(h.Status).To(Equal(v1alpha1.Unhealthy))
		Expect(h.FailingStreak).To(BeNumerically(">=", 3))
	})

	It("caps output at 4096 bytes and marks what was dropped", func() {
		exact := strings.Repeat("x", 4096)
		over := strings.Repeat("0123456789abcdef", 320) // 5120 bytes
		node.SetHandler(ns, "web", "app", kubeletsim.Sequence(
			kubeletsim.Reply(0, exact),
			kubeletsim.ReplyStreams(1, over, "and stderr"),
		))
		m.Ensure(key, prober.Spec{Config: check(time.Minute, 3), Target: targetOf(pod)}, nil)
		rs := firstResults(2)
		Expect(rs[0].Output).To(Equal(exact))
		Expect(rs[1].ExitCode).To(Equal(1))
		Expect(rs[1].Output).To(HaveLen(4096 + 3))
		Expect(rs[1].Output).To(HaveSuffix("..."))
		// stdout and stderr are copied by two goroutines: stderr may land anywhere in
		// stdout, or past the cap. What is kept is stdout's start with stderr at most once.
		kept := strings.Replace(strings.TrimSuffix(rs[1].Output, "..."), "and stderr", "", 1)
		Expect(over).To(HavePrefix(kept))
	})

	It("reports Docker's timeout text, without output", func() {
		node.SetHandler(ns, "web", "app", kubeletsim.Hang())
		m.Ensure(key, prober.Spec{Config: check(500*time.Millisecond, 1), Target: targetOf(pod)}, nil)
		rs := firstResults(1)
		Expect(exitsAndOutputs(rs)).To(Equal([]exitAndOutput{{-1, "Health check exceeded timeout (500ms)"}}))
		Expect(rs[0].End.Sub(rs[0].Start)).To(BeNumerically(">=", 500*time.Millisecond))
		Eventually(func() v1alpha1.HealthStatus { h, _, _ := m.Snapshot(key); return h.Status }).
			WithTimeout(eventually).Should(Equal(v1alpha1.Unhealthy))
	})

	It("reports Docker's timeout text, with the output printed before", func() {
		node.SetHandler(ns, "web", "app", kubeletsim.PrintThenHang("partial\n"))
		m.Ensure(key, prober.Spec{Config: check(2*time.Second, 1), Target: targetOf(pod)}, nil)
		rs := firstResults(1)
		Expect(exitsAndOutputs(rs)).To(Equal([]exitAndOutput{{-1, "Health check exceeded timeout (2s): partial\n"}}))
	})

	It("reports an exec error as -1 with its text", func() {
		target := targetOf(pod)
		target.Container = "nope"
		m.Ensure(key, prober.Spec{Config: check(time.Minute, 1), Target: target}, nil)
		rs := firstResults(1)
		Expect(rs[0].ExitCode).To(Equal(-1))
		Expect(rs[0].Output).To(ContainSubstring("nope"))
	})

	It("reports the error of a pod deleted mid-probe", func(ctx SpecContext) {
		node.SetHandler(ns, "web", "app", kubeletsim.Hang())
		m.Ensure(key, prober.Spec{Config: check(time.Hour, 1), Target: targetOf(pod)}, nil)
		Eventually(func() int { return node.Execs(ns, "web", "app") }).WithTimeout(eventually).WithPolling(poll).Should(Equal(1))
		Expect(clientset.CoreV1().Pods(ns).Delete(ctx, "web", metav1.DeleteOptions{})).To(Succeed())
		rs := firstResults(1)
		Expect(rs[0].ExitCode).To(Equal(-1))
		Expect(rs[0].Output).To(ContainSubstring("pod is terminating"))
		Expect(rs[0].Output).NotTo(ContainSubstring("exceeded timeout"))
	})

	It("stops a probe in flight and its exec on the node", func() {
		node.SetHandler(ns, "web", "app", kubeletsim.Hang())
		m.Ensure(key, prober.Spec{Config: check(time.Hour, 1), Target: targetOf(pod)}, nil)
		Eventually(func() int { return node.Execs(ns, "web", "app") }).WithTimeout(eventually).WithPolling(poll).Should(Equal(1))
		m.Stop(key)
		Expect(rec.results()).To(BeEmpty())
		Eventually(node.InFlight).WithTimeout(eventually).WithPolling(poll).Should(BeZero())
	})

	It("keeps execs in flight under the cap", func(ctx SpecContext) {
		node.ResetCounters()
		execer, err := prober.NewAPIServerExecer(cfg)
		Expect(err).NotTo(HaveOccurred())
		capped := &sinkRecorder{}
		cm := prober.NewManager(prober.Options{Execer: execer, MaxInFlight: 2, Sink: capped.sink, Registerer: prometheus.NewRegistry()})
		DeferCleanup(func() { cm.StopOwner(ns, "capped") })
		for i := range 5 {
			name := fmt.Sprintf("capped-%d", i)
			p := runningPod(ctx, ns, name)
			node.SetHandler(ns, name, "app", kubeletsim.Delay(300*time.Millisecond, kubeletsim.Reply(0, "")))
			cm.Ensure(prober.Key{Namespace: ns, Owner: "capped", Pod: name}, prober.Spec{Config: check(time.Minute, 1), Target: targetOf(p)}, nil)
		}
		Eventually(func() int { return len(capped.results()) }).WithTimeout(eventually).WithPolling(poll).Should(BeNumerically(">=", 15))
		Expect(node.MaxInFlight()).To(BeNumerically("<=", 2))
	})
})
