package controllers_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/dockprobe/dockprobe/controllers"
	"github.com/dockprobe/dockprobe/internal/testing/envtestenv"
	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// Windows are generous (the API server, etcd, the simulated node, the operator and the
// tests share 2 cores, under the race detector); intervals are short (100ms-1s). Exact
// timing is for the unit tests with a fake clock.
const (
	eventually   = 60 * time.Second
	poll         = 100 * time.Millisecond
	quietPeriod  = 2 * time.Second
	simNodeName  = "sim-node"
	flushPeriod  = time.Second
	operatorNS   = "dockprobe-system"
	operatorSA   = "controller-manager"
	operatorUser = "system:serviceaccount:" + operatorNS + ":" + operatorSA
)

var (
	testEnv *envtest.Environment
	k8s     client.Client // the test's own, cluster-admin, uncached
	// adminConfig is cluster-admin, for the test's own clients.
	adminConfig *rest.Config
	clientset   kubernetes.Interface
	node        *kubeletsim.Node
	// operatorConfig authenticates as the operator's service account, bound only to the
	// roles of config/rbac: every spec runs the operator with exactly those permissions.
	operatorConfig *rest.Config
	// operatorKubeconfig is a kubeconfig file for the same identity, for kubectl.
	operatorKubeconfig string
	operator           *runningOperator
	scripts            scriptTable
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "HealthCheck controller suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	klog.SetLogger(GinkgoLogr)
	logf.SetLogger(GinkgoLogr)

	root, err := envtestenv.ModuleRoot()
	Expect(err).NotTo(HaveOccurred())
	testEnv, adminConfig, err = envtestenv.Start(filepath.Join(root, "config", "crd", "bases"))
	Expect(err).NotTo(HaveOccurred())
	adminConfig.QPS, adminConfig.Burst = -1, 0
	k8s, err = client.New(adminConfig, client.Options{Scheme: controllers.NewScheme()})
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(adminConfig)
	Expect(err).NotTo(HaveOccurred())

	node, err = kubeletsim.Start(ctx, adminConfig, kubeletsim.Options{
		NodeName:       simNodeName,
		Workers:        8,
		DefaultHandler: scripts.dispatch,
		Logger:         GinkgoLogr.V(1),
	})
	Expect(err).NotTo(HaveOccurred())

	installRBAC(ctx, root)
	user, err := testEnv.AddUser(envtest.User{
		Name:   operatorUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNS},
	}, nil)
	Expect(err).NotTo(HaveOccurred())
	operatorConfig = user.Config()
	operatorConfig.QPS, operatorConfig.Burst = -1, 0
	kc, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	operatorKubeconfig = filepath.Join(dir, "kubeconfig")
	Expect(os.WriteFile(operatorKubeconfig, kc, 0o600)).To(Succeed())

	operator = startOperator()
}, NodeTimeout(5*time.Minute))

var _ = AfterSuite(func() {
	if operator != nil {
		operator.stop()
	}
	if node != nil {
		node.Stop()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// installRBAC applies config/rbac's operator roles and bindings, with the namespace
// "system" rewritten as kustomize does for config/default.
func installRBAC(ctx context.Context, root string) {
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}})).To(Succeed())
	decoder := serializer.NewCodecFactory(controllers.NewScheme()).UniversalDeserializer()
	for _, file := range []string{"service_account.yaml", "role.yaml", "role_binding.yaml", "leader_election_role.yaml", "leader_election_role_binding.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, "config", "rbac", file))
		Expect(err).NotTo(HaveOccurred())
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			if len(bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("---")))) == 0 {
				continue
			}
			obj, _, err := decoder.Decode(doc, nil, nil)
			Expect(err).NotTo(HaveOccurred(), "decoding %s", file)
			o := obj.(client.Object)
			if o.GetNamespace() == "system" {
				o.SetNamespace(operatorNS)
			}
			switch b := o.(type) {
			case *rbacv1.RoleBinding:
				fixSubjects(b.Subjects)
			case *rbacv1.ClusterRoleBinding:
				fixSubjects(b.Subjects)
			}
			Expect(k8s.Create(ctx, o)).To(Succeed(), "creating %s from %s", o.GetName(), file)
		}
	}
}

func fixSubjects(subjects []rbacv1.Subject) {
	for i := range subjects {
		if subjects[i].Namespace == "system" {
			subjects[i].Namespace = operatorNS
		}
	}
}

// runningOperator is one operator process: a manager built with controllers.NewManager
// as main.go builds it, with leader election.
type runningOperator struct {
	cancel context.CancelFunc
	done   chan error
}

func startOperator() *runningOperator {
	log := zap.New(zap.WriteTo(GinkgoWriter), zap.ConsoleEncoder())
	mgr, err := controllers.NewManager(operatorConfig, ctrl.Options{
		Logger:                        log,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                true,
		LeaderElectionID:              controllers.LeaderElectionID,
		LeaderElectionNamespace:       operatorNS,
		LeaderElectionReleaseOnCancel: true,
		// A second operator in the same process (the restart spec) reuses the controller name.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	}, controllers.Options{FlushPeriod: flushPeriod})
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	op := &runningOperator{cancel: cancel, done: make(chan error, 1)}
	go func() { op.done <- mgr.Start(ctx) }()
	return op
}

func (o *runningOperator) stop() {
	o.cancel()
	select {
	case err := <-o.done:
		Expect(err).NotTo(HaveOccurred())
	case <-time.After(time.Minute):
		Fail("the operator did not stop within a minute")
	}
}

// scriptTable answers the simulated node's execs by the command's first word, so each
// spec scripts its own checks (["CMD", "<name>", ...]). Unknown commands exit 0.
type scriptTable struct {
	m sync.Map // string -> kubeletsim.Handler
}

func (s *scriptTable) dispatch(ctx context.Context, req kubeletsim.ExecRequest, stdout, stderr io.Writer) (int, error) {
	if len(req.Cmd) > 0 {
		if h, ok := s.m.Load(req.Cmd[0]); ok {
			return h.(kubeletsim.Handler)(ctx, req, stdout, stderr)
		}
	}
	return 0, nil
}

// script makes command answer with h for the rest of the spec.
func script(command string, h kubeletsim.Handler) {
	scripts.m.Store(command, h)
	DeferCleanup(func() { scripts.m.Delete(command) })
}
