package demo

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// podDirHandler runs every exec as a real process in the pod's own directory,
// root/<namespace>/<pod>, created on first use. Pod and namespace names cannot hold a
// path separator or be "..", so the directory always lies under root.
//
// The environment is PATH (so `cat`, `sleep` and `sh` resolve as in the shell that
// started the demo) plus what a container would know about itself; nothing else of the
// demo's environment, KUBECONFIG included, leaks into a check.
func podDirHandler(root string) kubeletsim.Handler {
	return func(ctx context.Context, req kubeletsim.ExecRequest, stdout, stderr io.Writer) (int, error) {
		dir := filepath.Join(root, req.Namespace, req.Pod)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, err
		}
		env := []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + dir,
			"HOSTNAME=" + req.Pod,
			"POD_NAME=" + req.Pod,
			"POD_NAMESPACE=" + req.Namespace,
			"CONTAINER_NAME=" + req.Container,
		}
		return kubeletsim.LocalProcess(dir, env)(ctx, req, stdout, stderr)
	}
}
