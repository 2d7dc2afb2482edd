package devcluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// modulePath identifies the repository's root go.mod, so that a binary started from any
// subdirectory (a test's package directory, say) still finds config/ and hack/.
const modulePath = "github.com/dockprobe/dockprobe"

// RepoRoot returns the repository's root: the nearest directory, from the working
// directory upwards, whose go.mod declares the dockprobe module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func isModuleRoot(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
		}
	}
	return false
}

// errNoRoot is returned when a path relative to the repository is needed but the
// working directory is outside it.
var errNoRoot = errors.New("devcluster: run from inside the dockprobe repository")
