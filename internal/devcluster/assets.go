package devcluster

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnvAssets is envtest's variable for the directory holding kube-apiserver and etcd.
const EnvAssets = "KUBEBUILDER_ASSETS"

// FindAssets returns the directory holding kube-apiserver and etcd: $KUBEBUILDER_ASSETS
// when it holds both, else what hack/envtest-assets.sh prints (it looks in the
// setup-envtest store first, and builds the binaries from Go modules only as a last
// resort). The script's progress goes to progress, since a first build takes minutes.
func FindAssets(root string, progress io.Writer) (string, error) {
	if dir := os.Getenv(EnvAssets); dir != "" && hasAssets(dir) {
		return dir, nil
	}
	if root == "" {
		return "", errNoRoot
	}
	script := filepath.Join(root, "hack", "envtest-assets.sh")
	cmd := exec.Command(script)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, progress
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("devcluster: %s: %w", script, err)
	}
	// The directory is the last line; anything before it is a tool being chatty.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if !hasAssets(dir) {
		return "", fmt.Errorf("devcluster: %s printed %q, which lacks kube-apiserver or etcd", script, dir)
	}
	return dir, nil
}

func hasAssets(dir string) bool {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
