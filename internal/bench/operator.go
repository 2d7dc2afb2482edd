package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// operatorProcess is the operator's own binary (the repository's main package) running
// against the bench's control plane. A separate process so that its heap and RSS are its
// own, not mixed with the bench harness's and the simulated node's.
type operatorProcess struct {
	cmd        *exec.Cmd
	done       chan struct{} // closed when cmd.Wait has returned
	waitErr    error         // set before done is closed
	metricsURL string
	pprofURL   string
	http       *http.Client
}

// pprofEnv names the variable that tells the bench's build of the operator where to
// serve pprof.
const pprofEnv = "DOCKPROBE_BENCH_PPROF_ADDR"

// pprofOverlay is one more file of package main, added at build time only (go build
// -overlay: the repository is not touched). It serves net/http/pprof, so that the bench
// can force a GC (heap?gc=1) before it reads the heap: main.go has no pprof flag. The
// server costs the same before and after targets exist, so per-target figures do not see it.
const pprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("` + pprofEnv + `"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// buildOperator builds the main package of root, plus pprofOverlay, into dir and returns
// the binary's path.
func buildOperator(ctx context.Context, root, dir string) (string, error) {
	src := filepath.Join(dir, "bench_pprof.go")
	if err := os.WriteFile(src, []byte(pprofOverlay), 0o644); err != nil {
		return "", err
	}
	overlay, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(root, "zz_bench_pprof.go"): src},
	})
	if err != nil {
		return "", err
	}
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "manager")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-overlay", overlayFile, "-o", bin, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build of the operator: %w\n%s", err, out)
	}
	return bin, nil
}

// startOperatorProcess runs bin with the kubeconfig and the given operator flags, its
// metrics endpoint (plain HTTP) and pprof on free local ports, no health endpoints and
// no leader election; its logs go to logs. It returns once the metrics endpoint answers.
func startOperatorProcess(ctx context.Context, bin, kubeconfig string, flags []string, logs io.WriteCloser) (*operatorProcess, error) {
	metricsAddr, err := freeLocalAddr()
	if err != nil {
		return nil, err
	}
	pprofAddr, err := freeLocalAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--kubeconfig=" + kubeconfig,
		"--metrics-bind-address=" + metricsAddr,
		"--health-probe-bind-address=0",
		"--leader-elect=false",
	}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), pprofEnv+"="+pprofAddr)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a Ctrl-C on the bench is the bench's to handle
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, err
	}
	p := &operatorProcess{
		cmd:        cmd,
		done:       make(chan struct{}),
		metricsURL: "http://" + metricsAddr + "/metrics",
		pprofURL:   "http://" + pprofAddr + "/debug/pprof/",
		http:       &http.Client{Timeout: 30 * time.Second},
	}
	go func() {
		p.waitErr = cmd.Wait()
		logs.Close()
		close(p.done)
	}()
	if err := p.waitReady(ctx, 60*time.Second); err != nil {
		return nil, errors.Join(err, p.stop())
	}
	return p, nil
}

func (p *operatorProcess) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if _, err := p.metrics(ctx); err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("the operator exited at start-up: %v", p.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the operator's metrics endpoint %s did not answer within %v", p.metricsURL, timeout)
		}
	}
}

// metrics scrapes the operator's metrics endpoint.
func (p *operatorProcess) metrics(ctx context.Context) (metricSet, error) {
	body, err := p.get(ctx, p.metricsURL)
	if err != nil {
		return nil, err
	}
	return parseMetrics(bytes.NewReader(body))
}

// heapProfile makes the operator run a full GC (pprof's heap endpoint with gc=1), so that
// the heap figures read next are live objects only, and returns that heap profile.
func (p *operatorProcess) heapProfile(ctx context.Context) ([]byte, error) {
	return p.get(ctx, p.pprofURL+"heap?gc=1")
}

func (p *operatorProcess) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// rssBytes is the operator's resident set size, from /proc.
func (p *operatorProcess) rssBytes() (float64, error) {
	v := procField(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "status"), "VmRSS", ":")
	fields := strings.Fields(v)
	if len(fields) != 2 || fields[1] != "kB" {
		return 0, fmt.Errorf("no VmRSS for pid %d", p.cmd.Process.Pid)
	}
	kb, err := strconv.ParseFloat(fields[0], 64)
	return kb * 1024, err
}

// stop sends SIGTERM, as a kubelet would, and SIGKILL if the operator has not exited
// within 30s.
func (p *operatorProcess) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("the operator did not stop within 30s of SIGTERM")
	}
	var exit *exec.ExitError
	if errors.As(p.waitErr, &exit) && exit.Exited() && exit.ExitCode() != 0 {
		return fmt.Errorf("the operator exited with %v", p.waitErr)
	}
	return nil
}

func freeLocalAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
