package controllers_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/controllers"
	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

var _ = Describe("HealthCheck controller", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func(sctx SpecContext) {
		ctx = context.WithoutCancel(sctx)
		ns = newNamespace(ctx)
	})

	It("goes healthy, unhealthy after retries, and healthy again, with Events and metrics", func() {
		cmd := uniqueCommand("flip")
		check := &switchable{}
		check.set(0, "all good\n")
		script(cmd, check.handler())
		// The default-container annotation picks the checked container.
		createPod(ctx, ns, "web", "web", withContainers("init-helper", "web"), withDefaultContainer("web"))
		waitRunning(ctx, ns, "web")
		createHealthCheck(ctx, ns, "web", "web", []string{"CMD", cmd}, interval("200ms"), retries(2))

		By("healthy")
		hc := expectTarget(ctx, ns, "web", "web", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
			g.Expect(t.Container).To(Equal("web"))
			g.Expect(lastLog(t).ExitCode).To(BeEquivalentTo(0))
			g.Expect(lastLog(t).Output).To(Equal("all good\n"))
		})
		Expect(hc.Status.Status).To(Equal(v1alpha1.OverallHealthy))
		Expect(hc.Status.Ready).To(Equal("1/1"))
		Expect(hc.Status.ObservedGeneration).To(Equal(hc.Generation))
		Expect(readyCondition(hc).Status).To(Equal(metav1.ConditionTrue))
		Expect(readyCondition(hc).Reason).To(Equal(v1alpha1.ReasonAllHealthy))
		Expect(node.Execs(ns, "web", "init-helper")).To(BeZero())
		Eventually(func() map[string]float64 { return targetsGauge(ns, "web") }).WithTimeout(eventually).
			Should(Equal(map[string]float64{"healthy": 1, "unhealthy": 0, "starting": 0}))

		By("unhealthy once the failing streak reaches the retries")
		check.set(1, "connection refused\n")
		hc = expectTarget(ctx, ns, "web", "web", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Unhealthy))
			g.Expect(t.FailingStreak).To(BeNumerically(">=", 2))
			g.Expect(lastLog(t).ExitCode).To(BeEquivalentTo(1))
			g.Expect(lastLog(t).Output).To(Equal("connection refused\n"))
		})
		Expect(hc.Status.Status).To(Equal(v1alpha1.OverallUnhealthy))
		Expect(hc.Status.Ready).To(Equal("0/1"))
		Expect(readyCondition(hc).Status).To(Equal(metav1.ConditionFalse))
		Expect(readyCondition(hc).Reason).To(Equal(v1alpha1.ReasonSomeUnhealthy))
		expectEvent(ctx, ns, "Pod", "web", corev1.EventTypeWarning, controllers.EventReasonUnhealthy, "health_status: unhealthy (container web, exit code 1): connection refused")
		expectEvent(ctx, ns, "HealthCheck", "web", corev1.EventTypeWarning, controllers.EventReasonUnhealthy, "health_status: unhealthy")

		By("healthy again after one success")
		check.set(0, "back\n")
		expectTarget(ctx, ns, "web", "web", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
			g.Expect(t.FailingStreak).To(BeZero())
			g.Expect(lastLog(t).ExitCode).To(BeEquivalentTo(0))
		})
		expectEvent(ctx, ns, "Pod", "web", corev1.EventTypeNormal, controllers.EventReasonHealthy, "health_status: healthy")
		Eventually(func() map[string]float64 { return targetsGauge(ns, "web") }).WithTimeout(eventually).
			Should(Equal(map[string]float64{"healthy": 1, "unhealthy": 0, "starting": 0}))
		// No Event for the initial starting: only the two transitions above, and their
		// repeats, are reported.
		Eventually(func(g Gomega) {
			for _, e := range events(ctx, g, ns, "Pod", "web") {
				g.Expect(e.Note).NotTo(ContainSubstring("health_status: starting"))
			}
		}).Should(Succeed())
	})

	It("reports a timeout in Docker's words", func() {
		cmd := uniqueCommand("hang")
		script(cmd, kubeletsim.Hang())
		createPod(ctx, ns, "slow", "slow")
		waitRunning(ctx, ns, "slow")
		createHealthCheck(ctx, ns, "slow", "slow", []string{"CMD", cmd}, interval("200ms"), timeout("300ms"), retries(1))

		expectTarget(ctx, ns, "slow", "slow", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Unhealthy))
			last := lastLog(t)
			g.Expect(last.ExitCode).To(BeEquivalentTo(-1))
			g.Expect(last.Output).To(Equal("Health check exceeded timeout (300ms)"))
			g.Expect(last.End.Sub(last.Start.Time)).To(BeNumerically(">=", 300*time.Millisecond))
		})
	})

	It("does not count failures inside the start period, until it ends", func() {
		cmd := uniqueCommand("fail")
		script(cmd, reply(1, "not yet\n"))
		createHealthCheck(ctx, ns, "grace", "grace", []string{"CMD", cmd}, interval("200ms"), startPeriod("6s"), startInterval("200ms"), retries(1))
		createPod(ctx, ns, "grace", "grace")
		waitRunning(ctx, ns, "grace")

		By("inside the start period: starting, failures logged, streak 0")
		expectTarget(ctx, ns, "grace", "grace", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Starting))
			g.Expect(t.FailingStreak).To(BeZero())
			g.Expect(len(t.Log)).To(BeNumerically(">=", 2))
			for _, e := range t.Log {
				g.Expect(e.ExitCode).To(BeEquivalentTo(1))
			}
		})
		By("after it: the first failure counts, and retries is 1")
		expectTarget(ctx, ns, "grace", "grace", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Unhealthy))
			g.Expect(t.FailingStreak).To(BeNumerically(">=", 1))
		})
	})

	It("probes at the start interval while starting, then at the interval", func() {
		cmd := uniqueCommand("warmup")
		script(cmd, kubeletsim.Sequence(reply(1, "warming\n"), reply(1, "warming\n"), reply(0, "ready\n")))
		createPod(ctx, ns, "warm", "warm")
		waitRunning(ctx, ns, "warm")
		createHealthCheck(ctx, ns, "warm", "warm", []string{"CMD", cmd}, interval("1h"), startPeriod("1h"), startInterval("200ms"))

		expectTarget(ctx, ns, "warm", "warm", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
			g.Expect(t.FailingStreak).To(BeZero())
			g.Expect(t.Log).To(HaveLen(3))
			g.Expect([]int32{t.Log[0].ExitCode, t.Log[1].ExitCode, t.Log[2].ExitCode}).To(Equal([]int32{1, 1, 0}))
		})
		// Healthy now: the next probe is an hour away.
		Consistently(func() int { return execsOf(ns, "warm", cmd) }).WithTimeout(quietPeriod).Should(Equal(3))
	})

	It("goes back to starting with streak 0 and the log kept when the container restarts", func() {
		cmd := uniqueCommand("restart")
		check := &switchable{}
		check.set(0, "ok\n")
		script(cmd, check.handler())
		createPod(ctx, ns, "crashy", "crashy")
		pod := waitRunning(ctx, ns, "crashy")
		oldID := containerID(pod, "app")
		createHealthCheck(ctx, ns, "crashy", "crashy", []string{"CMD", cmd}, interval("300ms"), timeout("4s"), retries(3))

		var before []v1alpha1.HealthLogEntry
		expectTarget(ctx, ns, "crashy", "crashy", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
			g.Expect(t.ContainerID).To(Equal(oldID))
			g.Expect(len(t.Log)).To(BeNumerically(">=", 2))
			before = t.Log
		})

		By("restarting the container; the new one's first probe hangs, so it stays starting")
		script(cmd, kubeletsim.Hang())
		Expect(node.RestartContainer(ctx, ns, "crashy", "app")).To(Succeed())
		expectTarget(ctx, ns, "crashy", "crashy", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.ContainerID).NotTo(Equal(oldID))
			g.Expect(t.Status).To(Equal(v1alpha1.Starting))
			g.Expect(t.FailingStreak).To(BeZero())
			g.Expect(t.Log).NotTo(BeEmpty())
			g.Expect(t.Log[0].Start.Time).To(BeTemporally("<=", before[len(before)-1].Start.Time), "log of the old container kept")
		})

		By("healthy again")
		script(cmd, check.handler())
		expectTarget(ctx, ns, "crashy", "crashy", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.ContainerID).NotTo(Equal(oldID))
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
		})
	})

	It("stops probing a stopped container, reports it unhealthy, and resumes when it starts", func() {
		cmd := uniqueCommand("stop")
		script(cmd, reply(0, "ok\n"))
		createPod(ctx, ns, "stopper", "stopper")
		waitRunning(ctx, ns, "stopper")
		createHealthCheck(ctx, ns, "stopper", "stopper", []string{"CMD", cmd}, interval("200ms"))
		expectTarget(ctx, ns, "stopper", "stopper", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
		})

		Expect(node.StopContainer(ctx, ns, "stopper", "app", 1)).To(Succeed())
		expectTarget(ctx, ns, "stopper", "stopper", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Unhealthy))
			g.Expect(t.Message).To(ContainSubstring(`Container "app" terminated`))
			g.Expect(t.Log).NotTo(BeEmpty())
		})
		expectEvent(ctx, ns, "Pod", "stopper", corev1.EventTypeWarning, controllers.EventReasonUnhealthy, "terminated")
		n := execsOf(ns, "stopper", cmd)
		Consistently(func() int { return execsOf(ns, "stopper", cmd) }).WithTimeout(quietPeriod).Should(Equal(n))

		Expect(node.StartContainer(ctx, ns, "stopper", "app")).To(Succeed())
		expectTarget(ctx, ns, "stopper", "stopper", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
			g.Expect(t.Message).To(BeEmpty())
		})
	})

	It("drops the target of a deleted or unselected pod and never probes it again", func() {
		cmd := uniqueCommand("gone")
		script(cmd, reply(0, "ok\n"))
		for _, p := range []string{"a", "b", "c"} {
			createPod(ctx, ns, p, "gone")
		}
		for _, p := range []string{"a", "b", "c"} {
			waitRunning(ctx, ns, p)
		}
		createHealthCheck(ctx, ns, "gone", "gone", []string{"CMD", cmd}, interval("200ms"))
		Eventually(func(g Gomega) {
			g.Expect(getHealthCheck(ctx, g, ns, "gone").Status.Ready).To(Equal("3/3"))
		}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())

		By("deleting pod a")
		Expect(k8s.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "a"}})).To(Succeed())
		By("relabelling pod b")
		Expect(k8s.Patch(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"}},
			client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"app":"other"}}}`)))).To(Succeed())

		Eventually(func(g Gomega) {
			hc := getHealthCheck(ctx, g, ns, "gone")
			g.Expect(hc.Status.Targets).To(HaveLen(1))
			g.Expect(hc.Status.Targets[0].Pod).To(Equal("c"))
			g.Expect(hc.Status.Ready).To(Equal("1/1"))
		}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
		na, nb, nc := execsOf(ns, "a", cmd), execsOf(ns, "b", cmd), execsOf(ns, "c", cmd)
		Consistently(func(g Gomega) {
			g.Expect(execsOf(ns, "a", cmd)).To(Equal(na))
			g.Expect(execsOf(ns, "b", cmd)).To(Equal(nb))
		}).WithTimeout(quietPeriod).Should(Succeed())
		Expect(execsOf(ns, "c", cmd)).To(BeNumerically(">", nc), "pod c is still probed")
	})

	It("stops every probe when the HealthCheck is deleted, and its metrics go", func() {
		cmd := uniqueCommand("del")
		script(cmd, reply(0, "ok\n"))
		createPod(ctx, ns, "p", "del")
		waitRunning(ctx, ns, "p")
		hc := createHealthCheck(ctx, ns, "del", "del", []string{"CMD", cmd}, interval("200ms"))
		expectTarget(ctx, ns, "del", "p", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
		})
		Eventually(func() map[string]float64 { return targetsGauge(ns, "del") }).WithTimeout(eventually).ShouldNot(BeEmpty())

		Expect(k8s.Delete(ctx, hc)).To(Succeed())
		Eventually(func() map[string]float64 { return targetsGauge(ns, "del") }).WithTimeout(eventually).Should(BeEmpty())
		n := execsOf(ns, "p", cmd)
		Consistently(func() int { return execsOf(ns, "p", cmd) }).WithTimeout(quietPeriod).Should(Equal(n))
	})

	It("replaces the monitors when the spec changes", func() {
		good, bad := uniqueCommand("good"), uniqueCommand("bad")
		script(good, reply(0, "ok\n"))
		script(bad, reply(1, "broken\n"))
		createPod(ctx, ns, "p", "spec")
		waitRunning(ctx, ns, "p")
		hc := createHealthCheck(ctx, ns, "spec", "spec", []string{"CMD", good}, interval("200ms"), retries(1))
		expectTarget(ctx, ns, "spec", "p", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
		})

		patch := client.MergeFrom(hc.DeepCopy())
		hc.Spec.Test = []string{"CMD", bad}
		Expect(k8s.Patch(ctx, hc, patch)).To(Succeed())
		hc = expectTarget(ctx, ns, "spec", "p", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Unhealthy))
			g.Expect(lastLog(t).Output).To(Equal("broken\n"))
		})
		Expect(hc.Status.ObservedGeneration).To(Equal(int64(2)))
		Expect(readyCondition(hc).ObservedGeneration).To(Equal(int64(2)))
		n := execsOf(ns, "p", good)
		Consistently(func() int { return execsOf(ns, "p", good) }).WithTimeout(quietPeriod).Should(Equal(n))
	})

	It("runs nothing for test NONE and says so, without rewriting the status", func() {
		createPod(ctx, ns, "p", "none")
		waitRunning(ctx, ns, "p")
		createHealthCheck(ctx, ns, "none", "none", []string{"NONE"})
		var hc *v1alpha1.HealthCheck
		Eventually(func(g Gomega) {
			hc = getHealthCheck(ctx, g, ns, "none")
			g.Expect(hc.Status.Status).To(Equal(v1alpha1.OverallNone))
			g.Expect(hc.Status.Ready).To(Equal("0/0"))
			g.Expect(readyCondition(hc).Reason).To(Equal(v1alpha1.ReasonCheckDisabled))
		}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(node.Execs(ns, "p", "app")).To(BeZero())
			g.Expect(getHealthCheck(ctx, g, ns, "none").ResourceVersion).To(Equal(hc.ResourceVersion), "status rewritten with nothing changed")
		}).WithTimeout(quietPeriod).WithPolling(200 * time.Millisecond).Should(Succeed())
	})

	It("writes log-only changes at most once per flush period", func() {
		cmd := uniqueCommand("steady")
		script(cmd, reply(0, "ok\n"))
		createPod(ctx, ns, "p", "steady")
		waitRunning(ctx, ns, "p")
		createHealthCheck(ctx, ns, "steady", "steady", []string{"CMD", cmd}, interval("100ms"))
		expectTarget(ctx, ns, "steady", "p", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
			g.Expect(t.Log).To(HaveLen(5))
		})

		rec := recordStatuses(ctx, ns, "steady")
		probesBefore := execsOf(ns, "p", cmd)
		window := 5 * time.Second
		time.Sleep(window)
		probes := execsOf(ns, "p", cmd) - probesBefore
		writes := rec.count() - 1 // the watch starts with the current object
		GinkgoWriter.Printf("%d probes, %d status writes in %v (flush period %v)\n", probes, writes, window, flushPeriod)
		Expect(probes).To(BeNumerically(">", 2*writes), "writes are not coalesced")
		Expect(writes).To(BeNumerically(">=", 1), "logs are never flushed")
		Expect(writes).To(BeNumerically("<=", int(window/flushPeriod)+1))
	})

	It("probes a pod selected by two HealthChecks once for each", func() {
		x, y := uniqueCommand("x"), uniqueCommand("y")
		script(x, reply(0, "x ok\n"))
		script(y, reply(1, "y failed\n"))
		createPod(ctx, ns, "shared", "shared")
		waitRunning(ctx, ns, "shared")
		createHealthCheck(ctx, ns, "first", "shared", []string{"CMD", x}, interval("200ms"))
		createHealthCheck(ctx, ns, "second", "shared", []string{"CMD", y}, interval("200ms"), retries(1))

		expectTarget(ctx, ns, "first", "shared", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Healthy))
			g.Expect(lastLog(t).Output).To(Equal("x ok\n"))
		})
		expectTarget(ctx, ns, "second", "shared", func(g Gomega, t *v1alpha1.TargetStatus) {
			g.Expect(t.Status).To(Equal(v1alpha1.Unhealthy))
			g.Expect(lastLog(t).Output).To(Equal("y failed\n"))
		})
		Expect(execsOf(ns, "shared", x)).To(BeNumerically(">", 0))
		Expect(execsOf(ns, "shared", y)).To(BeNumerically(">", 0))
	})

	It("shows READY and STATUS in kubectl get", func() {
		// hack/envtest-assets.sh puts a kubectl beside kube-apiserver; else the machine's.
		kubectl := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
		if _, err := os.Stat(kubectl); os.Getenv("KUBEBUILDER_ASSETS") == "" || err != nil {
			var lookErr error
			kubectl, lookErr = exec.LookPath("kubectl")
			Expect(lookErr).NotTo(HaveOccurred(), "kubectl is needed: hack/envtest-assets.sh provides one")
		}
		cmd := uniqueCommand("kubectl")
		script(cmd, reply(0, "ok\n"))
		createPod(ctx, ns, "p1", "kc")
		createPod(ctx, ns, "p2", "kc")
		waitRunning(ctx, ns, "p1")
		waitRunning(ctx, ns, "p2")
		createHealthCheck(ctx, ns, "web", "kc", []string{"CMD", cmd}, interval("250ms"))
		Eventually(func(g Gomega) {
			g.Expect(getHealthCheck(ctx, g, ns, "web").Status.Status).To(Equal(v1alpha1.OverallHealthy))
		}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())

		run := func(args ...string) []string {
			out, err := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", operatorKubeconfig, "-n", ns}, args...)...).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			return strings.Split(strings.TrimSpace(string(out)), "\n")
		}
		lines := run("get", "healthchecks")
		Expect(lines).To(HaveLen(2))
		Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "READY", "STATUS", "AGE"}))
		Expect(strings.Fields(lines[1])[:3]).To(Equal([]string{"web", "2/2", "healthy"}))

		lines = run("get", "dhc", "-o", "wide")
		Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "READY", "STATUS", "UNHEALTHY", "STARTING", "INTERVAL", "TEST", "AGE"}))
		row := strings.Fields(lines[1])
		Expect(row[:6]).To(Equal([]string{"web", "2/2", "healthy", "0", "0", "250ms"}))
		Expect(lines[1]).To(ContainSubstring(cmd))
	})

	It("runs with exactly the permissions of config/rbac", func() {
		can := func(verb, group, resource, subresource, namespace string) bool {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   operatorUser,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNS, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: verb, Group: group, Resource: resource, Subresource: subresource, Namespace: namespace,
				},
			}}
			Expect(k8s.Create(ctx, sar)).To(Succeed())
			return sar.Status.Allowed
		}
		Expect(can("watch", "", "pods", "", "")).To(BeTrue())
		Expect(can("create", "", "pods", "exec", ns)).To(BeTrue())
		Expect(can("get", "", "pods", "exec", ns)).To(BeTrue())
		Expect(can("patch", v1alpha1.GroupVersion.Group, "healthchecks", "status", ns)).To(BeTrue())
		Expect(can("create", "events.k8s.io", "events", "", ns)).To(BeTrue())
		Expect(can("update", "coordination.k8s.io", "leases", "", operatorNS)).To(BeTrue())
		// Least privilege: nothing that writes pods or specs, nothing outside its namespace for leases.
		Expect(can("update", "", "pods", "", ns)).To(BeFalse())
		Expect(can("delete", "", "pods", "", ns)).To(BeFalse())
		Expect(can("update", v1alpha1.GroupVersion.Group, "healthchecks", "", ns)).To(BeFalse())
		Expect(can("get", "", "secrets", "", ns)).To(BeFalse())
		Expect(can("update", "coordination.k8s.io", "leases", "", ns)).To(BeFalse())
		// The specs above ran the operator as that identity: probes, status, Events, lease.
	})

	It("checks 50 pods with one HealthCheck", func() {
		cmd := uniqueCommand("fifty")
		script(cmd, kubeletsim.Func(func(req kubeletsim.ExecRequest) (int, string) { return 0, "ok " + req.Pod + "\n" }))
		names := byName(50)
		createPods(ctx, ns, "fifty", names)
		createHealthCheck(ctx, ns, "fifty", "fifty", []string{"CMD", cmd}, interval("2s"), startPeriod("1m"), startInterval("300ms"))
		Eventually(func(g Gomega) {
			hc := getHealthCheck(ctx, g, ns, "fifty")
			g.Expect(hc.Status.Ready).To(Equal("50/50"))
			g.Expect(hc.Status.Status).To(Equal(v1alpha1.OverallHealthy))
			for _, t := range hc.Status.Targets {
				g.Expect(lastLog(&t).Output).To(Equal("ok " + t.Pod + "\n"))
			}
		}).WithTimeout(2 * eventually).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(k8s.Delete(ctx, &v1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fifty"}})).To(Succeed())
	})

	It("resumes from the written status after an operator restart, without flapping to starting", func() {
		createPod(ctx, ns, "up", "restart")
		createPod(ctx, ns, "down", "restart")
		waitRunning(ctx, ns, "up")
		waitRunning(ctx, ns, "down")
		// Each pod gets its own check through the command's pod-dependent answer.
		cmd := uniqueCommand("perpod")
		script(cmd, kubeletsim.Func(func(req kubeletsim.ExecRequest) (int, string) {
			if req.Pod == "down" {
				return 1, "down\n"
			}
			return 0, "ok\n"
		}))
		createHealthCheck(ctx, ns, "restart", "restart", []string{"CMD", cmd}, interval("300ms"), retries(2))
		var streakBefore int32
		var logBefore []v1alpha1.HealthLogEntry
		Eventually(func(g Gomega) {
			hc := getHealthCheck(ctx, g, ns, "restart")
			up, down := targetOf(hc, "up"), targetOf(hc, "down")
			g.Expect(up).NotTo(BeNil())
			g.Expect(down).NotTo(BeNil())
			g.Expect(up.Status).To(Equal(v1alpha1.Healthy))
			g.Expect(up.Log).To(HaveLen(5))
			g.Expect(down.Status).To(Equal(v1alpha1.Unhealthy))
			g.Expect(down.FailingStreak).To(BeNumerically(">=", 4))
			streakBefore, logBefore = down.FailingStreak, up.Log
		}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())

		rec := recordStatuses(ctx, ns, "restart")
		By("stopping the operator and starting a new one")
		operator.stop()
		stoppedAt := time.Now()
		operator = startOperator()

		By("the new operator probes on from where the old one stopped")
		Eventually(func(g Gomega) {
			hc := getHealthCheck(ctx, g, ns, "restart")
			down := targetOf(hc, "down")
			g.Expect(down.FailingStreak).To(BeNumerically(">", streakBefore+2))
			g.Expect(lastLog(down).Start.Time).To(BeTemporally(">", stoppedAt))
			up := targetOf(hc, "up")
			g.Expect(lastLog(up).Start.Time).To(BeTemporally(">", stoppedAt))
		}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
		// The first status the new operator wrote still holds results from before the
		// restart: the log was kept, not started afresh.
		// The recorder's watch may lag behind the Get above: wait until it has seen the
		// new operator's first write too.
		var first *v1alpha1.HealthCheckStatus
		Eventually(func() *v1alpha1.HealthCheckStatus {
			for _, st := range rec.seen() {
				if up := targetOf(&v1alpha1.HealthCheck{Status: st}, "up"); up != nil && lastLog(up).Start.After(stoppedAt) {
					first = &st
					return first
				}
			}
			return nil
		}).WithTimeout(eventually).WithPolling(poll).ShouldNot(BeNil())
		for _, st := range rec.seen() {
			Expect(st.Status).To(Equal(v1alpha1.OverallUnhealthy), "overall status flapped: %+v", st)
			for _, t := range st.Targets {
				Expect(t.Status).NotTo(Equal(v1alpha1.Starting), "target %s flapped to starting", t.Pod)
				if t.Pod == "down" {
					Expect(t.FailingStreak).To(BeNumerically(">=", streakBefore), "failing streak reset")
				}
			}
		}
		up := targetOf(&v1alpha1.HealthCheck{Status: *first}, "up")
		Expect(up.Log[0].Start.Time).To(BeTemporally("<", stoppedAt), "log before the restart %v was lost: %v", logBefore, up.Log)
	})

	It("keeps the status of 500 pods printing 4 KiB under the byte budget, newest results kept", func() {
		cmd := uniqueCommand("big")
		script(cmd, kubeletsim.Func(func(req kubeletsim.ExecRequest) (int, string) {
			prefix := "out:" + req.Pod + ":"
			return 0, prefix + strings.Repeat("x", 4096-len(prefix))
		}))
		names := byName(500)
		createPods(ctx, ns, "big", names)
		// One probe per pod: healthy at the first success, then the next probe is an hour away.
		createHealthCheck(ctx, ns, "big", "big", []string{"CMD", cmd}, interval("1h"), startPeriod("1h"), startInterval("500ms"))

		var hc *v1alpha1.HealthCheck
		Eventually(func(g Gomega) {
			hc = getHealthCheck(ctx, g, ns, "big")
			g.Expect(hc.Status.Ready).To(Equal("500/500"))
		}).WithTimeout(4 * eventually).WithPolling(time.Second).Should(Succeed())

		status, err := json.Marshal(hc.Status)
		Expect(err).NotTo(HaveOccurred())
		whole, err := json.Marshal(hc)
		Expect(err).NotTo(HaveOccurred())
		GinkgoWriter.Printf("500 targets: status %d bytes, object %d bytes\n", len(status), len(whole))
		Expect(len(status)).To(BeNumerically("<=", controllers.DefaultStatusMaxBytes))
		Expect(len(whole)).To(BeNumerically("<", 3*1024*1024/2))
		Expect(hc.Status.Targets).To(HaveLen(500))
		for _, t := range hc.Status.Targets {
			Expect(t.Status).To(Equal(v1alpha1.Healthy))
			Expect(t.Log).NotTo(BeEmpty(), "target %s", t.Pod)
			newest := lastLog(&t)
			Expect(newest.ExitCode).To(BeEquivalentTo(0))
			Expect(newest.Output).To(HavePrefix("out:"+t.Pod+":"), "newest output of %s", t.Pod)
			Expect(newest.Output).To(HaveSuffix("..."))
		}
		Expect(k8s.Delete(ctx, hc)).To(Succeed())
	})
})

// createPods creates pods labelled app=<app> with a few writers, then waits for all to run.
func createPods(ctx context.Context, ns, app string, names []string) {
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			defer GinkgoRecover()
			for name := range work {
				createPod(ctx, ns, name, app)
			}
		})
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	Eventually(func(g Gomega) {
		var pods corev1.PodList
		g.Expect(k8s.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app": app})).To(Succeed())
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		g.Expect(running).To(Equal(len(names)), "running pods")
	}).WithTimeout(4 * eventually).WithPolling(time.Second).Should(Succeed())
}
