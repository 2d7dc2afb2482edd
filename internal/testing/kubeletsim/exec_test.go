package kubeletsim_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilexec "k8s.io/utils/exec"

	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// exitStatus is the exit code client-go reports, or -1 when err carries none.
func exitStatus(err error) int {
	var exitErr utilexec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return exitErr.ExitStatus()
	}
	return -1
}

// watchedHang hangs like kubeletsim.Hang for one exec and reports when it started, and
// why its context ended.
func watchedHang() (h kubeletsim.Handler, started <-chan struct{}, ended <-chan error) {
	s, e := make(chan struct{}), make(chan error, 1)
	return func(ctx context.Context, _ kubeletsim.ExecRequest, _, _ io.Writer) (int, error) {
		close(s)
		<-ctx.Done()
		e <- context.Cause(ctx)
		return 0, ctx.Err()
	}, s, e
}

var _ = Describe("Exec through the API server", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		createPod(ctx, ns, "web", simNodeName, "app", "sidecar")
		waitRunning(ctx, ns, "web")
		node.ResetCounters()
	})

	for _, t := range transports {
		It("returns the exit code and both streams over "+string(t), func(ctx SpecContext) {
			node.SetHandler(ns, "web", "app", kubeletsim.ReplyStreams(3, "to stdout\n", "to stderr\n"))
			out, err := execIn(ctx, t, ns, "web", "app", "check")
			Expect(exitStatus(err)).To(Equal(3), "error: %v", err)
			Expect(out).To(ContainSubstring("to stdout\n"))
			Expect(out).To(ContainSubstring("to stderr\n"))

			node.SetHandler(ns, "web", "app", kubeletsim.Reply(0, "healthy"))
			out, err = execIn(ctx, t, ns, "web", "app", "check")
			Expect(err).NotTo(HaveOccurred())
			Expect(out).To(Equal("healthy"))
		})

		It("ends the handler's context when the client cancels over "+string(t), func(ctx SpecContext) {
			h, started, ended := watchedHang()
			node.SetHandler(ns, "web", "app", h)
			execCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			result := make(chan error, 1)
			go func() {
				_, err := execIn(execCtx, t, ns, "web", "app", "hang")
				result <- err
			}()
			Eventually(started).WithTimeout(eventually).Should(BeClosed())
			Expect(node.InFlight()).To(Equal(1))

			cancel()
			Eventually(result).WithTimeout(eventually).Should(Receive(HaveOccurred()))
			// The API server hangs up on the node, whichever protocol the client spoke.
			Eventually(ended).WithTimeout(eventually).Should(Receive(MatchError(ContainSubstring("closed by the API server"))))
			Eventually(node.InFlight).WithTimeout(eventually).Should(BeZero())
		})
	}

	It("hands the handler the request", func(ctx SpecContext) {
		pod, err := clientset.CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		got := make(chan kubeletsim.ExecRequest, 1)
		node.SetHandler(ns, "web", "sidecar", kubeletsim.Func(func(req kubeletsim.ExecRequest) (int, string) {
			got <- req
			return 0, ""
		}))
		_, err = execIn(ctx, fallback, ns, "web", "sidecar", "cat", "/tmp/status")
		Expect(err).NotTo(HaveOccurred())

		var req kubeletsim.ExecRequest
		Expect(got).To(Receive(&req))
		Expect(req.Namespace).To(Equal(ns))
		Expect(req.Pod).To(Equal("web"))
		Expect(req.PodUID).To(Equal(pod.UID))
		Expect(req.Container).To(Equal("sidecar"))
		Expect(req.ContainerID).To(Equal(containerStatus(pod, "sidecar").ContainerID))
		Expect(req.Cmd).To(Equal([]string{"cat", "/tmp/status"}))
		Expect(req.Labels).To(HaveKeyWithValue("app", "web"))
	})

	It("picks the most specific handler", func(ctx SpecContext) {
		node.SetDefaultHandler(kubeletsim.Reply(0, "default"))
		DeferCleanup(func() { node.SetDefaultHandler(nil) })
		node.SetContainerHandler("sidecar", kubeletsim.Reply(0, "by name"))
		DeferCleanup(func() { node.SetContainerHandler("sidecar", nil) })

		Expect(execIn(ctx, spdy, ns, "web", "app", "x")).To(Equal("default"))
		Expect(execIn(ctx, spdy, ns, "web", "sidecar", "x")).To(Equal("by name"))
		node.SetHandler(ns, "web", "sidecar", kubeletsim.Reply(0, "exact"))
		Expect(execIn(ctx, spdy, ns, "web", "sidecar", "x")).To(Equal("exact"))
		node.SetHandler(ns, "web", "sidecar", nil)
		Expect(execIn(ctx, spdy, ns, "web", "sidecar", "x")).To(Equal("by name"))
	})

	It("streams 4 KiB of output intact", func(ctx SpecContext) {
		output := strings.Repeat("0123456789abcdef", 4096/16)
		node.SetHandler(ns, "web", "app", kubeletsim.Reply(1, output))
		out, err := execIn(ctx, fallback, ns, "web", "app", "check")
		Expect(exitStatus(err)).To(Equal(1))
		Expect(out).To(Equal(output))
	})

	It("scripts sequences and flapping", func(ctx SpecContext) {
		node.SetHandler(ns, "web", "app", kubeletsim.Sequence(kubeletsim.Reply(1, ""), kubeletsim.Reply(0, "")))
		node.SetHandler(ns, "web", "sidecar", kubeletsim.Cycle(kubeletsim.Reply(0, ""), kubeletsim.Reply(1, "")))
		var seq, cycle []int
		for range 4 {
			_, err := execIn(ctx, spdy, ns, "web", "app", "x")
			seq = append(seq, max(exitStatus(err), 0))
			_, err = execIn(ctx, spdy, ns, "web", "sidecar", "x")
			cycle = append(cycle, max(exitStatus(err), 0))
		}
		Expect(seq).To(Equal([]int{1, 0, 0, 0}))
		Expect(cycle).To(Equal([]int{0, 1, 0, 1}))
	})

	It("counts execs and the most in flight at once", func(ctx SpecContext) {
		node.SetHandler(ns, "web", "app", kubeletsim.Delay(time.Second, kubeletsim.Reply(0, "")))
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				defer GinkgoRecover()
				_, err := execIn(ctx, spdy, ns, "web", "app", "check", strconv.Itoa(i))
				Expect(err).NotTo(HaveOccurred())
			})
		}
		wg.Wait()

		Expect(node.Execs(ns, "web", "app")).To(Equal(5))
		Expect(node.Execs(ns, "web", "sidecar")).To(BeZero())
		Expect(node.TotalExecs()).To(Equal(5))
		Expect(node.InFlight()).To(BeZero())
		Expect(node.MaxInFlight()).To(BeNumerically(">=", 2)) // 5 one-second execs overlap
		records := node.ExecRecords()
		Expect(records).To(HaveLen(5))
		for _, r := range records {
			Expect(r.Cmd[0]).To(Equal("check"))
			Expect(r.Finished).To(BeTemporally(">=", r.Started.Add(time.Second)))
			Expect(r.ExitCode).To(BeZero())
		}

		node.ResetCounters()
		Expect(node.TotalExecs()).To(BeZero())
		Expect(node.MaxInFlight()).To(BeZero())
		Expect(node.ExecRecords()).To(BeEmpty())
	})

	It("ends execs in a stopped container and refuses new ones until it starts", func(ctx SpecContext) {
		h, started, ended := watchedHang()
		node.SetHandler(ns, "web", "app", h)
		result := make(chan error, 1)
		go func() {
			_, err := execIn(ctx, fallback, ns, "web", "app", "hang")
			result <- err
		}()
		Eventually(started).WithTimeout(eventually).Should(BeClosed())

		Expect(node.StopContainer(ctx, ns, "web", "app", 1)).To(Succeed())
		var err error
		Eventually(result).WithTimeout(eventually).Should(Receive(&err))
		Expect(err).To(MatchError(ContainSubstring("container stopped")))
		Expect(ended).To(Receive(MatchError(ContainSubstring("container stopped"))))
		_, err = execIn(ctx, fallback, ns, "web", "app", "check")
		Expect(err).To(MatchError(ContainSubstring("not running")))

		node.SetHandler(ns, "web", "app", nil)
		Expect(node.StartContainer(ctx, ns, "web", "app")).To(Succeed())
		Expect(execIn(ctx, fallback, ns, "web", "app", "check")).To(BeEmpty())
	})

	It("ends execs into a deleted pod and refuses new ones", func(ctx SpecContext) {
		h, started, ended := watchedHang()
		node.SetHandler(ns, "web", "app", h)
		result := make(chan error, 1)
		go func() {
			_, err := execIn(ctx, fallback, ns, "web", "app", "hang")
			result <- err
		}()
		Eventually(started).WithTimeout(eventually).Should(BeClosed())

		Expect(clientset.CoreV1().Pods(ns).Delete(ctx, "web", metav1.DeleteOptions{})).To(Succeed())
		var err error
		Eventually(result).WithTimeout(eventually).Should(Receive(&err))
		Expect(err).To(MatchError(ContainSubstring("pod is terminating")))
		Expect(ended).To(Receive(MatchError(ContainSubstring("pod is terminating"))))

		Eventually(func() error {
			_, err := clientset.CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{})
			return err
		}).WithTimeout(eventually).WithPolling(poll).Should(Satisfy(apierrors.IsNotFound))
		_, err = execIn(ctx, fallback, ns, "web", "app", "check")
		Expect(err).To(HaveOccurred())
	})
})

var _ = Describe("LocalProcess", func() {
	var ns, dir string
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		dir = GinkgoT().TempDir()
		createPod(ctx, ns, "demo", simNodeName, "app")
		waitRunning(ctx, ns, "demo")
		node.SetHandler(ns, "demo", "app", kubeletsim.LocalProcess(dir, nil))
	})

	It("runs the command for real", func(ctx SpecContext) {
		out, err := execIn(ctx, fallback, ns, "demo", "app", "sh", "-c", "echo hi; echo oops >&2; exit 3")
		Expect(exitStatus(err)).To(Equal(3), "error: %v", err)
		Expect(out).To(ContainSubstring("hi\n"))
		Expect(out).To(ContainSubstring("oops\n"))

		Expect(os.WriteFile(filepath.Join(dir, "status"), []byte("all good\n"), 0o600)).To(Succeed())
		Expect(execIn(ctx, spdy, ns, "demo", "app", "cat", "status")).To(Equal("all good\n"))
		_, err = execIn(ctx, spdy, ns, "demo", "app", "sh", "-c", "test -f ready")
		Expect(exitStatus(err)).To(Equal(1))
	})

	It("answers 127 for a command that does not exist", func(ctx SpecContext) {
		out, err := execIn(ctx, spdy, ns, "demo", "app", "no-such-command-kubeletsim")
		Expect(exitStatus(err)).To(Equal(127), "error: %v", err)
		Expect(out).To(ContainSubstring("no-such-command-kubeletsim"))
	})

	It("kills the process group when the client goes away", func(ctx SpecContext) {
		execCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		result := make(chan error, 1)
		go func() {
			_, err := execIn(execCtx, spdy, ns, "demo", "app", "sh", "-c", "sleep 300 & echo $! > pid; wait")
			result <- err
		}()
		var pid int
		Eventually(func() error {
			b, err := os.ReadFile(filepath.Join(dir, "pid"))
			if err == nil {
				pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
			}
			return err
		}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())

		cancel()
		Eventually(result).WithTimeout(eventually).Should(Receive(HaveOccurred()))
		Eventually(node.InFlight).WithTimeout(eventually).Should(BeZero())
		Eventually(func() bool { return processGone(pid) }).WithTimeout(eventually).WithPolling(poll).Should(BeTrue())
	})
})

// processGone is true once pid has exited: no such process, or a zombie nobody reaped yet.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}
