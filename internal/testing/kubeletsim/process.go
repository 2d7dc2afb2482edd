//go:build unix

package kubeletsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// processWaitDelay bounds how long an exec outlives its process when something the
// process started in the background still holds its stdout or stderr open.
const processWaitDelay = 2 * time.Second

// LocalProcess runs the requested argv as a real process on this machine, in directory
// dir, with the test process's environment plus env ("NAME=value" entries, overriding
// variables of the same name), its stdout and stderr wired to the exec's streams. The
// command is looked up in the test process's PATH. It is what `make demo` uses so that
// checks like `cat status` or `sh -c 'test -f ready'` really run.
//
// The process runs in a process group of its own, killed with SIGKILL when the exec's
// context ends (client gone, container stopped, node stopped). Exit codes follow a
// container runtime: the process's own, 128+N when killed by signal N, 127 when the
// command is not found and 126 when it cannot be run, with the reason on stderr.
func LocalProcess(dir string, env []string) Handler {
	return func(ctx context.Context, req ExecRequest, stdout, stderr io.Writer) (int, error) {
		if len(req.Cmd) == 0 {
			return 0, errors.New("no command given")
		}
		cmd := exec.CommandContext(ctx, req.Cmd[0], req.Cmd[1:]...)
		cmd.Dir = dir
		if len(env) > 0 {
			cmd.Env = append(os.Environ(), env...) // os/exec keeps the last of duplicates
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = req.Stdin, stdout, stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		// Kill the group, not just the process: `sh -c 'sleep 60'` must not leave its
		// sleep behind.
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = processWaitDelay

		err := cmd.Run()
		if cmd.ProcessState == nil { // it never started
			code := 126
			if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
				code = 127
			}
			_, _ = fmt.Fprintf(stderr, "exec failed: %v\n", err)
			return code, nil
		}
		if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			return 128 + int(status.Signal()), nil
		}
		return cmd.ProcessState.ExitCode(), nil
	}
}
