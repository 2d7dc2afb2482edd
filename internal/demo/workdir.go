package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
)

// pidFile names the file in the working directory that says which process owns it.
const pidFile = "demo.pid"

// claimDir makes dir this process's working directory. It refuses one that a running demo
// holds, and clears what a demo that died without cleaning up left behind: its processes
// first (a kube-apiserver still holding its certificates, checks still running in a
// pod's directory), then its files.
func claimDir(dir string, log logr.Logger) error {
	if pid, ok := ownerPID(dir); ok && pid != os.Getpid() && processAlive(pid) {
		return fmt.Errorf("another demo (pid %d) is using %s: stop it first (Ctrl-C)", pid, dir)
	}
	if _, err := os.Stat(dir); err == nil {
		log.Info("Removing what a previous demo left behind", "dir", dir)
		for _, pid := range leftovers(dir) {
			log.Info("Killing a leftover process", "pid", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

func ownerPID(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// leftovers lists the processes, other than this one and its ancestors, that run from dir
// (working directory inside it) or name a path inside it on their command line: what a
// demo using dir started and did not stop. It reads /proc, and finds nothing where there
// is none.
func leftovers(dir string) []int {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	skip := ancestors()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || skip[pid] {
			continue
		}
		if runsFrom(pid, dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func runsFrom(pid int, dir string) bool {
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	if cwd, err := os.Readlink(filepath.Join(proc, "cwd")); err == nil && within(cwd, dir) {
		return true
	}
	cmdline, err := os.ReadFile(filepath.Join(proc, "cmdline"))
	if err != nil {
		return false
	}
	for arg := range strings.SplitSeq(string(cmdline), "\x00") {
		if strings.Contains(arg, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// ancestors is this process and its parents: `go run -dir .demo` names the directory on
// its command line but is not a leftover.
func ancestors() map[int]bool {
	out := map[int]bool{}
	for pid := os.Getpid(); pid > 1 && !out[pid]; {
		out[pid] = true
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			break
		}
		// The command name, in parentheses, may hold spaces: the fields after its last ")"
		// are state, then the parent's pid.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 {
			break
		}
		if pid, err = strconv.Atoi(fields[1]); err != nil {
			break
		}
	}
	return out
}

// releaseDir removes the working directory. A missing one is not an error.
func releaseDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
