package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/controllers"
	"github.com/dockprobe/dockprobe/internal/testing/kubeletsim"
)

// newNamespace gives a spec a namespace of its own (envtest cannot delete namespaces:
// they stay behind, harmless).
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "hc-" + rand.String(6)}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// uniqueCommand names a check command no other spec uses.
func uniqueCommand(prefix string) string { return prefix + "-" + rand.String(6) }

type podOption func(*corev1.Pod)

func withContainers(names ...string) podOption {
	return func(p *corev1.Pod) {
		p.Spec.Containers = nil
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "busybox:1.36"})
		}
	}
}

func withDefaultContainer(name string) podOption {
	return func(p *corev1.Pod) {
		p.Annotations = map[string]string{v1alpha1.DefaultContainerAnnotation: name}
	}
}

// createPod creates a pod bound to the simulated node, labelled app=<app>, with one
// container "app" unless told otherwise.
func createPod(ctx context.Context, ns, name, app string, opts ...podOption) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{
			NodeName:   simNodeName,
			Containers: []corev1.Container{{Name: "app", Image: "busybox:1.36"}},
		},
	}
	for _, o := range opts {
		o(pod)
	}
	Expect(k8s.Create(ctx, pod)).To(Succeed())
	return pod
}

// waitRunning waits until the simulated node runs every container of the pod.
func waitRunning(ctx context.Context, ns, name string) *corev1.Pod {
	pod := &corev1.Pod{}
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, pod)).To(Succeed())
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning))
		g.Expect(pod.Status.ContainerStatuses).To(HaveLen(len(pod.Spec.Containers)))
		for _, cs := range pod.Status.ContainerStatuses {
			g.Expect(cs.State.Running).NotTo(BeNil())
		}
	}).WithContext(ctx).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
	return pod
}

func containerID(pod *corev1.Pod, container string) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container {
			return cs.ContainerID
		}
	}
	return ""
}

type hcOption func(*v1alpha1.HealthCheckSpec)

func duration(s string) *metav1.Duration {
	d, err := time.ParseDuration(s)
	Expect(err).NotTo(HaveOccurred())
	return &metav1.Duration{Duration: d}
}

func interval(s string) hcOption {
	return func(sp *v1alpha1.HealthCheckSpec) { sp.Interval = duration(s) }
}
func timeout(s string) hcOption {
	return func(sp *v1alpha1.HealthCheckSpec) { sp.Timeout = duration(s) }
}
func startPeriod(s string) hcOption {
	return func(sp *v1alpha1.HealthCheckSpec) { sp.StartPeriod = duration(s) }
}
func startInterval(s string) hcOption {
	return func(sp *v1alpha1.HealthCheckSpec) { sp.StartInterval = duration(s) }
}
func retries(n int32) hcOption    { return func(sp *v1alpha1.HealthCheckSpec) { sp.Retries = &n } }
func container(c string) hcOption { return func(sp *v1alpha1.HealthCheckSpec) { sp.Container = c } }

// createHealthCheck creates a HealthCheck selecting app=<app> that runs test.
func createHealthCheck(ctx context.Context, ns, name, app string, test []string, opts ...hcOption) *v1alpha1.HealthCheck {
	hc := &v1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.HealthCheckSpec{
			Selector: metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			Test:     test,
		},
	}
	for _, o := range opts {
		o(&hc.Spec)
	}
	Expect(k8s.Create(ctx, hc)).To(Succeed())
	return hc
}

func getHealthCheck(ctx context.Context, g Gomega, ns, name string) *v1alpha1.HealthCheck {
	hc := &v1alpha1.HealthCheck{}
	g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, hc)).To(Succeed())
	return hc
}

func targetOf(hc *v1alpha1.HealthCheck, pod string) *v1alpha1.TargetStatus {
	for i := range hc.Status.Targets {
		if hc.Status.Targets[i].Pod == pod {
			return &hc.Status.Targets[i]
		}
	}
	return nil
}

// expectTarget polls the HealthCheck until check passes on the target of pod, and returns
// the HealthCheck it passed on.
func expectTarget(ctx context.Context, ns, name, pod string, check func(g Gomega, t *v1alpha1.TargetStatus)) *v1alpha1.HealthCheck {
	var hc *v1alpha1.HealthCheck
	EventuallyWithOffset(1, func(g Gomega) {
		hc = getHealthCheck(ctx, g, ns, name)
		t := targetOf(hc, pod)
		g.Expect(t).NotTo(BeNil(), "no target for pod %s in %+v", pod, hc.Status)
		check(g, t)
	}).WithContext(ctx).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
	return hc
}

func lastLog(t *v1alpha1.TargetStatus) v1alpha1.HealthLogEntry {
	if len(t.Log) == 0 {
		return v1alpha1.HealthLogEntry{ExitCode: -999}
	}
	return t.Log[len(t.Log)-1]
}

func readyCondition(hc *v1alpha1.HealthCheck) metav1.Condition {
	for _, c := range hc.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			return c
		}
	}
	return metav1.Condition{}
}

// events lists the events.k8s.io Events of a namespace about one object.
func events(ctx context.Context, g Gomega, ns, kind, name string) []eventsv1.Event {
	list, err := clientset.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// expectEvent waits for an Event about the object with the reason, type and note text.
func expectEvent(ctx context.Context, ns, kind, name, eventType, reason, noteContains string) {
	EventuallyWithOffset(1, func(g Gomega) {
		var seen []string
		for _, e := range events(ctx, g, ns, kind, name) {
			if e.Reason == reason && e.Type == eventType && strings.Contains(e.Note, noteContains) {
				g.Expect(e.ReportingController).To(Equal(controllers.ControllerName))
				return
			}
			seen = append(seen, e.Type+"/"+e.Reason+": "+e.Note)
		}
		g.Expect(seen).To(ContainElement(ContainSubstring(noteContains)), "no %s %s event about %s %s", eventType, reason, kind, name)
	}).WithContext(ctx).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
}

// targetsGauge reads dockprobe_targets for one HealthCheck: status -> value; empty when
// the HealthCheck has no series.
func targetsGauge(ns, name string) map[string]float64 {
	families, err := crmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != controllers.MetricTargets {
			continue
		}
		for _, m := range f.GetMetric() {
			l := labels(m)
			if l["namespace"] == ns && l["healthcheck"] == name {
				out[l["status"]] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// execsOf counts the exec records of a command (its first word) on one pod.
func execsOf(ns, pod, command string) int {
	n := 0
	for _, r := range node.ExecRecords() {
		if r.Namespace == ns && r.Pod == pod && len(r.Cmd) > 0 && r.Cmd[0] == command {
			n++
		}
	}
	return n
}

// statusRecorder watches one HealthCheck and keeps every status the API server sent.
type statusRecorder struct {
	mu       sync.Mutex
	statuses []v1alpha1.HealthCheckStatus
	versions []string
	cancel   context.CancelFunc
}

func recordStatuses(ctx context.Context, ns, name string) *statusRecorder {
	wctx, cancel := context.WithCancel(ctx)
	rec := &statusRecorder{cancel: cancel}
	DeferCleanup(cancel)
	wc, err := client.NewWithWatch(adminConfig, client.Options{Scheme: k8s.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(wctx, &v1alpha1.HealthCheckList{}, client.InNamespace(ns), client.MatchingFields{"metadata.name": name})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		defer w.Stop()
		for ev := range w.ResultChan() {
			hc, ok := ev.Object.(*v1alpha1.HealthCheck)
			if !ok {
				continue
			}
			rec.mu.Lock()
			rec.statuses = append(rec.statuses, *hc.Status.DeepCopy())
			rec.versions = append(rec.versions, hc.ResourceVersion)
			rec.mu.Unlock()
		}
	}()
	return rec
}

func (r *statusRecorder) seen() []v1alpha1.HealthCheckStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]v1alpha1.HealthCheckStatus(nil), r.statuses...)
}

func (r *statusRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.statuses)
}

// reply answers with exit code and output.
func reply(code int, output string) kubeletsim.Handler { return kubeletsim.Reply(code, output) }

// switchable is a check whose answer the spec changes while it runs.
type switchable struct {
	mu     sync.Mutex
	code   int
	output string
}

func (s *switchable) set(code int, output string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code, s.output = code, output
}

func (s *switchable) handler() kubeletsim.Handler {
	return kubeletsim.Func(func(kubeletsim.ExecRequest) (int, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.code, s.output
	})
}

func byName(pods int) []string {
	names := make([]string, pods)
	for i := range names {
		names[i] = fmt.Sprintf("pod-%03d", i)
	}
	return names
}
