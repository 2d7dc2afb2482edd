package devcluster

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options configures a control plane.
type Options struct {
	// Dir receives the control plane's state and the kubeconfig. Required; created if
	// missing. Stop removes what Start put there, not Dir itself.
	Dir string
	// Port is the API server's port on 127.0.0.1; 0 picks a free one.
	Port int
	// Name names the kubeconfig's cluster, user and context; default "dockprobe".
	Name string
	// Root is the repository's root, for the CRDs and hack/envtest-assets.sh; default
	// RepoRoot().
	Root string
	// CRDPaths are directories or files of CRDs to install; default
	// <Root>/config/crd/bases.
	CRDPaths []string
	// APIServerFlags are extra kube-apiserver flags, name without dashes to value.
	APIServerFlags map[string]string
	// Progress receives hack/envtest-assets.sh's output; default os.Stderr.
	Progress io.Writer
	// ControlPlaneOutput receives the API server's and etcd's own logs; nil discards them.
	ControlPlaneOutput io.Writer
}

// Cluster is a running control plane. Its methods are safe for concurrent use; Stop
// must be called once.
type Cluster struct {
	// All set by Start, read-only afterwards.
	env        *envtest.Environment
	config     *rest.Config
	kubeconfig string
	owned      []string // paths under Options.Dir that Stop removes
}

// startTimeout bounds each of etcd and kube-apiserver coming up: on 2 busy cores the API
// server's first start (CRD controllers, RBAC bootstrap) can exceed envtest's 20s.
const startTimeout = 90 * time.Second

// Start starts etcd and kube-apiserver, installs the CRDs and writes the kubeconfig. On
// error nothing is left running.
func Start(opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("devcluster: Options.Dir is required")
	}
	if err := defaults(&opts); err != nil {
		return nil, err
	}
	assets, err := FindAssets(opts.Root, opts.Progress)
	if err != nil {
		return nil, err
	}
	c := &Cluster{kubeconfig: filepath.Join(opts.Dir, "kubeconfig")}
	certDir, etcdDir := filepath.Join(opts.Dir, "apiserver"), filepath.Join(opts.Dir, "etcd")
	for _, d := range []string{certDir, etcdDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	c.owned = []string{certDir, etcdDir, c.kubeconfig}

	apiServer := &envtest.APIServer{CertDir: certDir, Out: opts.ControlPlaneOutput, Err: opts.ControlPlaneOutput}
	apiServer.SecureServing.Address = "127.0.0.1"
	if opts.Port != 0 {
		apiServer.SecureServing.Port = strconv.Itoa(opts.Port)
	}
	for name, value := range opts.APIServerFlags {
		apiServer.Configure().Set(name, value)
	}
	c.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: apiServer,
			Etcd:      &envtest.Etcd{DataDir: etcdDir, Out: opts.ControlPlaneOutput, Err: opts.ControlPlaneOutput},
		},
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        opts.CRDPaths,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: startTimeout,
	}
	if c.config, err = c.env.Start(); err != nil {
		c.removeOwned()
		return nil, fmt.Errorf("devcluster: starting the control plane: %w", err)
	}
	if err := writeKubeconfig(c.kubeconfig, opts.Name, c.config); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

func defaults(opts *Options) error {
	if opts.Name == "" {
		opts.Name = "dockprobe"
	}
	if opts.Progress == nil {
		opts.Progress = os.Stderr
	}
	if opts.Root == "" {
		root, err := RepoRoot()
		if err != nil && len(opts.CRDPaths) == 0 {
			return fmt.Errorf("%w: %w", errNoRoot, err)
		}
		opts.Root = root
	}
	if len(opts.CRDPaths) == 0 {
		opts.CRDPaths = []string{filepath.Join(opts.Root, "config", "crd", "bases")}
	}
	return os.MkdirAll(opts.Dir, 0o755)
}

// Config returns a copy of the admin (system:masters) client configuration, with
// client-side rate limits high enough not to be what a benchmark measures.
func (c *Cluster) Config() *rest.Config { return rest.CopyConfig(c.config) }

// KubeconfigPath is the kubeconfig file for the admin user.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// Host is the API server's URL.
func (c *Cluster) Host() string { return c.config.Host }

// Port is the API server's port on 127.0.0.1.
func (c *Cluster) Port() int {
	u, err := url.Parse(c.config.Host)
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

// Stop stops kube-apiserver and etcd (SIGTERM, then SIGKILL after envtest's stop
// timeout) and removes the state and kubeconfig that Start wrote.
func (c *Cluster) Stop() error {
	err := c.env.Stop()
	c.removeOwned()
	if err != nil {
		return fmt.Errorf("devcluster: stopping the control plane: %w", err)
	}
	return nil
}

func (c *Cluster) removeOwned() {
	for _, p := range c.owned {
		_ = os.RemoveAll(p)
	}
}
