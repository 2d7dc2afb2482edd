// Package envtestenv starts envtest (a real kube-apiserver and etcd) for the suites of
// this module, finding the binaries the same way on a laptop, in CI and offline.
package envtestenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/dockprobe/dockprobe/internal/devcluster"
)

// Start starts a control plane with the CRDs in crdPaths installed (a missing path is an
// error). The binaries come from $KUBEBUILDER_ASSETS, else from hack/envtest-assets.sh at
// the module root, which may download or even build them (about 10 minutes the first time
// on 2 cores; its progress goes to stderr). The caller stops the returned Environment.
func Start(crdPaths ...string) (*envtest.Environment, *rest.Config, error) {
	assets, err := assetsDir()
	if err != nil {
		return nil, nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     crdPaths,
		ErrorIfCRDPathMissing: true,
		// Generous: the API server shares 2 cores with the tests on small machines.
		ControlPlaneStartTimeout: 3 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting envtest with binaries from %s: %w", assets, err)
	}
	return env, cfg, nil
}

// ModuleRoot is the directory of the go.mod above the working directory (a test's package
// directory), so suites can name files such as config/crd/bases from there.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}

// assetsDir finds the binaries as `make demo` does, so tests and the demo agree.
func assetsDir() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return devcluster.FindAssets(root, os.Stderr)
}
