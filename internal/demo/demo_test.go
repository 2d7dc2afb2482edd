package demo

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"go.uber.org/goleak"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/devcluster"
)

// Generous: the suites of other packages run at the same time on 2 cores.
const (
	startTimeout = 3 * time.Minute
	waitFor      = time.Minute
	pollEvery    = 250 * time.Millisecond
)

// TestDemo is `make demo` without the terminal: the samples reach their states, the
// flappy pod goes unhealthy when its file is removed and healthy when it is back, the
// kubeconfig works with kubectl, and Stop leaves no directory, process or goroutine.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	if _, err := devcluster.FindAssets(repoRoot(t), os.Stderr); err != nil {
		t.Fatalf("no kube-apiserver and etcd: %v", err)
	}
	// The manager's own logger is the test's; this is for what logs through
	// controller-runtime's global one (its caches), which would otherwise complain.
	ctrl.SetLogger(logr.Discard())
	ignore := goleak.IgnoreCurrent()
	dir := filepath.Join(t.TempDir(), ".demo")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	env, err := Start(ctx, Options{Dir: dir, Logger: testr.NewWithOptions(t, testr.Options{Verbosity: 0})})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = env.Stop()
		}
	}()

	t.Run("web is healthy", func(t *testing.T) {
		hc := waitHealthCheck(t, env, "web", func(hc *v1alpha1.HealthCheck) bool {
			return hc.Status.Status == v1alpha1.OverallHealthy && hc.Status.Ready == "2/2"
		})
		if out := lastOutput(hc, "web-1"); out != "OK\n" {
			t.Errorf("web-1's last output = %q, want %q", out, "OK\n")
		}
	})

	t.Run("flappy follows its file", func(t *testing.T) {
		ready := filepath.Join(env.PodDir("default", "flappy"), "ready")
		waitHealthCheck(t, env, "flappy", overall(v1alpha1.OverallHealthy))

		if err := os.Remove(ready); err != nil {
			t.Fatal(err)
		}
		hc := waitHealthCheck(t, env, "flappy", overall(v1alpha1.OverallUnhealthy))
		tg := target(hc, "flappy")
		if tg.FailingStreak < 3 {
			t.Errorf("failing streak = %d, want >= 3 (retries)", tg.FailingStreak)
		}
		if out := lastOutput(hc, "flappy"); !strings.Contains(out, "ready") {
			t.Errorf("last output = %q, want ls's complaint about ready", out)
		}

		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		hc = waitHealthCheck(t, env, "flappy", overall(v1alpha1.OverallHealthy))
		if tg := target(hc, "flappy"); tg.FailingStreak != 0 || tg.Log[len(tg.Log)-1].ExitCode != 0 {
			t.Errorf("after restoring the file: streak %d, last exit code %d; want 0, 0",
				tg.FailingStreak, tg.Log[len(tg.Log)-1].ExitCode)
		}
	})

	t.Run("stuck times out", func(t *testing.T) {
		hc := waitHealthCheck(t, env, "stuck", overall(v1alpha1.OverallUnhealthy))
		last := target(hc, "stuck").Log
		if e := last[len(last)-1]; e.ExitCode != -1 || e.Output != "Health check exceeded timeout (1s)" {
			t.Errorf("last result = (%d, %q), want (-1, %q)", e.ExitCode, e.Output, "Health check exceeded timeout (1s)")
		}
	})

	t.Run("warmup is protected by its start period", func(t *testing.T) {
		hc := waitHealthCheck(t, env, "warmup", overall(v1alpha1.OverallHealthy))
		failed := slices.ContainsFunc(target(hc, "warmup").Log, func(e v1alpha1.HealthLogEntry) bool {
			return strings.HasPrefix(e.Output, "warming up")
		})
		if !failed {
			t.Errorf("no 'warming up' failure in the log %+v", target(hc, "warmup").Log)
		}
	})

	t.Run("the kubeconfig works with kubectl", func(t *testing.T) {
		// hack/envtest-assets.sh puts a kubectl beside the control plane's binaries.
		assets, err := devcluster.FindAssets(repoRoot(t), os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		kubectl := filepath.Join(assets, "kubectl")
		if _, err := os.Stat(kubectl); err != nil {
			if kubectl, err = exec.LookPath("kubectl"); err != nil {
				t.Fatalf("no kubectl beside %s nor on PATH", assets)
			}
		}
		out, err := exec.Command(kubectl, "--kubeconfig", env.Kubeconfig(), "get", "healthchecks").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "flappy") {
			t.Errorf("kubectl get healthchecks: %v\n%s", err, out)
		}
	})

	t.Run("the instructions print the export line and the flappy commands", func(t *testing.T) {
		var b strings.Builder
		if err := env.PrintInstructions(&b, filepath.Dir(dir)); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"export KUBECONFIG=" + env.Kubeconfig(),
			"rm .demo/pods/default/flappy/ready",
			"touch .demo/pods/default/flappy/ready",
			env.Host(),
		} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("instructions lack %q:\n%s", want, b.String())
			}
		}
	})

	stopped = true
	if err := env.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still exists after Stop (err %v)", dir, err)
	}
	if pids := leftovers(dir); len(pids) > 0 {
		t.Errorf("processes still running from %s after Stop: %v", dir, pids)
	}
	if pids := children(); len(pids) > 0 {
		t.Errorf("child processes left after Stop: %v", pids)
	}
	if err := findLeaks(ignore); err != nil {
		t.Error(err)
	}
}

// findLeaks gives goroutines that end once their connection notices the API server is
// gone some seconds to do so; goleak's own retries last well under one.
func findLeaks(opts ...goleak.Option) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollEvery)
	}
}

func overall(want v1alpha1.OverallStatus) func(*v1alpha1.HealthCheck) bool {
	return func(hc *v1alpha1.HealthCheck) bool { return hc.Status.Status == want }
}

// waitHealthCheck polls the HealthCheck until ok, and fails the test after waitFor.
func waitHealthCheck(t *testing.T, env *Env, name string, ok func(*v1alpha1.HealthCheck) bool) *v1alpha1.HealthCheck {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	var hc v1alpha1.HealthCheck
	for {
		err := env.Client().Get(context.Background(), types.NamespacedName{Namespace: "default", Name: name}, &hc)
		if err == nil && ok(&hc) {
			return &hc
		}
		if time.Now().After(deadline) {
			t.Fatalf("HealthCheck %s: condition not met within %v (get error %v); status %+v", name, waitFor, err, hc.Status)
		}
		time.Sleep(pollEvery)
	}
}

func target(hc *v1alpha1.HealthCheck, pod string) v1alpha1.TargetStatus {
	for _, tg := range hc.Status.Targets {
		if tg.Pod == pod {
			return tg
		}
	}
	return v1alpha1.TargetStatus{}
}

func lastOutput(hc *v1alpha1.HealthCheck, pod string) string {
	log := target(hc, pod).Log
	if len(log) == 0 {
		return ""
	}
	return log[len(log)-1].Output
}

// children lists the processes whose parent is this test process.
func children() []int {
	self := os.Getpid()
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(self) {
			out = append(out, pid)
		}
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := devcluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
