package v1alpha1_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// invalidCase is one file of testdata/invalid: a HealthCheck the API server must refuse,
// and the message it must give (the file's first line, "# expect: <message>").
type invalidCase struct {
	file, name, expect string
	obj                *unstructured.Unstructured
}

func loadInvalidCases() []invalidCase {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(files).NotTo(BeEmpty())
	var cases []invalidCase
	for _, f := range files {
		raw, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		first, _, _ := bufio.NewReader(bytes.NewReader(raw)).ReadLine()
		expect, ok := strings.CutPrefix(string(first), "# expect: ")
		Expect(ok).To(BeTrue(), "%s must start with '# expect: <message>'", f)
		obj := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal(raw, &obj.Object)).To(Succeed(), f)
		cases = append(cases, invalidCase{file: f, name: obj.GetName(), expect: expect, obj: obj})
	}
	return cases
}

// kubectlPath finds kubectl beside the envtest binaries (hack/envtest-assets.sh puts one
// there), else on PATH.
func kubectlPath() string {
	if p := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"); os.Getenv("KUBEBUILDER_ASSETS") != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("kubectl")
	Expect(err).NotTo(HaveOccurred(), "kubectl is needed: hack/envtest-assets.sh provides one")
	return p
}

func kubectl(ns string, args ...string) (string, error) {
	full := append([]string{"--kubeconfig", kubeconfig, "-n", ns}, args...)
	out, err := exec.Command(kubectlPath(), full...).CombinedOutput()
	return string(out), err
}

var _ = Describe("HealthCheck validation by the API server", func() {
	const ns = "default"

	It("refuses each invalid object with its message and stores nothing", func(ctx context.Context) {
		for _, c := range loadInvalidCases() {
			obj := c.obj.DeepCopy()
			obj.SetNamespace(ns)
			err := k8sClient.Create(ctx, obj)
			Expect(err).To(HaveOccurred(), c.file)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%s: want 422 Invalid, got %v", c.file, err)
			Expect(err.Error()).To(ContainSubstring(c.expect), c.file)

			got := &v1alpha1.HealthCheck{}
			err = k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: c.name}, got)
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s: object was stored", c.file)
		}
	})

	It("prints the message on kubectl apply", func() {
		for _, c := range loadInvalidCases() {
			out, err := kubectl(ns, "apply", "-f", c.file)
			Expect(err).To(HaveOccurred(), "%s: kubectl apply succeeded:\n%s", c.file, out)
			Expect(out).To(ContainSubstring(c.expect), c.file)
			GinkgoWriter.Printf("%s: %s", c.file, out)
		}
	})

	It("accepts Docker's valid edge values", func(ctx context.Context) {
		for name, spec := range map[string]string{
			"zero-means-default": `{"test":["CMD","true"],"interval":"0s","timeout":"0","startPeriod":"0s","startInterval":"0s","retries":0}`,
			"one-millisecond":    `{"test":["CMD","true"],"interval":"1ms","timeout":"1ms","startPeriod":"1ms","startInterval":"1ms"}`,
			"compose-durations":  `{"test":["CMD-SHELL","exit 0"],"interval":"1m30s","timeout":"500ms","startPeriod":"1h","startInterval":"1500µs","retries":1}`,
			"none":               `{"test":["NONE"]}`,
			"shell":              `{"test":["CMD-SHELL","exit 0","extra"],"shell":["/bin/bash","-c"]}`,
		} {
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": v1alpha1.GroupVersion.String(), "kind": "HealthCheck",
				"metadata": map[string]any{"name": name, "namespace": ns},
			}}
			var s map[string]any
			Expect(yaml.Unmarshal([]byte(spec), &s)).To(Succeed())
			s["selector"] = map[string]any{"matchLabels": map[string]any{"app": name}}
			obj.Object["spec"] = s
			Expect(k8sClient.Create(ctx, obj)).To(Succeed(), name)
			DeferCleanup(func(ctx context.Context) { Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) })
		}
	})

	It("applies the samples with kubectl and stores Docker's defaults", func(ctx context.Context) {
		samples := filepath.Join("..", "..", "config", "samples")
		out, err := kubectl("samples", "create", "namespace", "samples")
		Expect(err).NotTo(HaveOccurred(), out)
		out, err = kubectl("samples", "apply", "-f", samples)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("healthcheck.monitoring.dockprobe.dev/web created"))

		cache := &v1alpha1.HealthCheck{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: "samples", Name: "cache"}, cache)).To(Succeed())
		Expect(cache.Spec.Interval.Duration.String()).To(Equal("1m30s"))
		Expect(cache.Spec.Timeout.Duration.String()).To(Equal("30s"), "default stored")
		Expect(cache.Spec.StartPeriod.Duration.String()).To(Equal("0s"), "default stored")
		Expect(cache.Spec.StartInterval.Duration.String()).To(Equal("5s"), "default stored")
		Expect(*cache.Spec.Retries).To(BeEquivalentTo(3), "default stored")

		out, err = kubectl("samples", "get", "dhc")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(strings.Fields(strings.SplitN(out, "\n", 2)[0])).To(Equal([]string{"NAME", "READY", "STATUS", "AGE"}))
		Expect(out).To(ContainSubstring("web"))

		out, err = kubectl("samples", "get", "healthchecks", "-o", "wide")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("INTERVAL"))

		out, err = kubectl("samples", "get", "dockprobe")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("cache"))
	})

	It("documents the fields for kubectl explain", func() {
		out, err := kubectl("default", "explain", "healthcheck.spec.interval")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("between the end of one probe and the start of the next"))

		out, err = kubectl("default", "explain", "dhc.status.targets.log")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("oldest first"))
	})
})

var _ = Describe("The kustomize deployment", func() {
	It("applies to a real API server with kubectl apply -k", func() {
		out, err := kubectl("dockprobe-system", "apply", "-k", filepath.Join("..", "..", "config", "default"))
		Expect(err).NotTo(HaveOccurred(), out)
		for _, want := range []string{
			"namespace/dockprobe-system",
			"serviceaccount/dockprobe-controller-manager",
			"clusterrole.rbac.authorization.k8s.io/dockprobe-manager-role",
			"clusterrolebinding.rbac.authorization.k8s.io/dockprobe-manager-rolebinding",
			"role.rbac.authorization.k8s.io/dockprobe-leader-election-role",
			"deployment.apps/dockprobe-controller-manager",
		} {
			Expect(out).To(ContainSubstring(want))
		}
	})
})
