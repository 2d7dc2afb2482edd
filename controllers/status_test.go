package controllers

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
	"github.com/dockprobe/dockprobe/internal/prober"
)

func result(sec int, exit int, out string) prober.Result {
	start := t0.Add(time.Duration(sec) * time.Second)
	return prober.Result{Start: start, End: start.Add(10 * time.Millisecond), ExitCode: exit, Output: out}
}

func entry(sec int, exit int32, out string) v1alpha1.HealthLogEntry {
	start := t0.Add(time.Duration(sec) * time.Second)
	return v1alpha1.HealthLogEntry{Start: metav1.NewMicroTime(start), End: metav1.NewMicroTime(start.Add(10 * time.Millisecond)), ExitCode: exit, Output: out}
}

func TestTargetStatus(t *testing.T) {
	healthy := &knownHealth{ContainerID: "containerd://a-app", Health: prober.Health{Status: v1alpha1.Healthy, Log: []prober.Result{result(1, 0, "ok")}}}
	failing := &knownHealth{ContainerID: "containerd://a-app", Health: prober.Health{Status: v1alpha1.Starting, FailingStreak: 2, Log: []prober.Result{result(1, 1, "no")}}}
	stopped := probed("a", "app")
	stopped.Probe, stopped.Reason, stopped.Target = false, `Container "app" terminated: Error (exit code 1)`, prober.Target{ContainerID: "containerd://a-app"}
	pending := targetPlan{Pod: "a", Container: "app", Reason: "Pod is Pending"}
	missing := targetPlan{Pod: "a", Container: "db", Missing: true, Reason: `Pod has no container "db"`}

	tests := map[string]struct {
		plan  targetPlan
		known *knownHealth
		want  v1alpha1.TargetStatus
	}{
		"probed: the monitor's health": {
			plan: probed("a", "app"), known: failing,
			want: v1alpha1.TargetStatus{Pod: "a", Container: "app", ContainerID: "containerd://a-app", Status: v1alpha1.Starting, FailingStreak: 2, Log: []v1alpha1.HealthLogEntry{entry(1, 1, "no")}},
		},
		"probed, no snapshot yet: starting": {
			plan: probed("a", "app"),
			want: v1alpha1.TargetStatus{Pod: "a", Container: "app", ContainerID: "containerd://a-app", Status: v1alpha1.Starting},
		},
		"container stopped: unhealthy as in Docker, streak and log kept": {
			plan: stopped, known: &knownHealth{ContainerID: "containerd://a-app", Health: prober.Health{Status: v1alpha1.Unhealthy, FailingStreak: 2, Log: []prober.Result{result(1, 1, "no")}}},
			want: v1alpha1.TargetStatus{Pod: "a", Container: "app", ContainerID: "containerd://a-app", Status: v1alpha1.Unhealthy, FailingStreak: 2, Log: []v1alpha1.HealthLogEntry{entry(1, 1, "no")}, Message: stopped.Reason},
		},
		"healthy container stopped: unhealthy": {
			plan: stopped, known: healthy,
			want: v1alpha1.TargetStatus{Pod: "a", Container: "app", ContainerID: "containerd://a-app", Status: v1alpha1.Unhealthy, Log: []v1alpha1.HealthLogEntry{entry(1, 0, "ok")}, Message: stopped.Reason},
		},
		"never ran: starting, with the reason": {
			plan: pending,
			want: v1alpha1.TargetStatus{Pod: "a", Container: "app", Status: v1alpha1.Starting, Message: "Pod is Pending"},
		},
		"no such container: unhealthy": {
			plan: missing,
			want: v1alpha1.TargetStatus{Pod: "a", Container: "db", Status: v1alpha1.Unhealthy, Message: missing.Reason},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, targetStatus(tc.plan, tc.known)); diff != "" {
				t.Errorf("targetStatus() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeedFor(t *testing.T) {
	plan := probed("a", "app") // containerd://a-app
	log := []prober.Result{result(1, 1, "no"), result(2, 1, "no")}
	unhealthy := prober.Health{Status: v1alpha1.Unhealthy, FailingStreak: 4, Log: log}
	restarted := &prober.Health{Status: v1alpha1.Starting, Log: log}
	writtenFor := func(containerID, message string) *v1alpha1.TargetStatus {
		return &v1alpha1.TargetStatus{Pod: "a", Container: "app", ContainerID: containerID, Status: v1alpha1.Unhealthy, FailingStreak: 4,
			Log: []v1alpha1.HealthLogEntry{entry(1, 1, "no"), entry(2, 1, "no")}, Message: message}
	}

	tests := map[string]struct {
		memory         *knownHealth
		written        *v1alpha1.TargetStatus
		sameGeneration bool
		want           *prober.Health
	}{
		"nothing known: fresh start": {},
		"memory of the same container: resume": {
			memory: &knownHealth{ContainerID: "containerd://a-app", Health: unhealthy}, want: &unhealthy,
		},
		"memory of an earlier container: starting, streak 0, log kept": {
			memory: &knownHealth{ContainerID: "containerd://old", Health: unhealthy}, want: restarted,
		},
		"memory wins over the written status": {
			memory: &knownHealth{ContainerID: "containerd://old", Health: unhealthy}, written: writtenFor("containerd://a-app", ""), sameGeneration: true, want: restarted,
		},
		"operator restart, same container, same generation: resume from the status": {
			written: writtenFor("containerd://a-app", ""), sameGeneration: true, want: &unhealthy,
		},
		"operator restart, container restarted meanwhile: starting, log kept": {
			written: writtenFor("containerd://old", ""), sameGeneration: true, want: restarted,
		},
		"operator restart, spec changed meanwhile: starting, log kept": {
			written: writtenFor("containerd://a-app", ""), sameGeneration: false, want: restarted,
		},
		"written entry that was not a probed state: starting, log kept": {
			written: writtenFor("containerd://a-app", "Container stopped"), sameGeneration: true, want: restarted,
		},
		"written entry of another container name: ignored": {
			written: func() *v1alpha1.TargetStatus {
				w := writtenFor("containerd://a-app", "")
				w.Container = "sidecar"
				return w
			}(), sameGeneration: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := seedFor(plan, tc.memory, tc.written, tc.sameGeneration)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("seedFor() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestComputeStatus(t *testing.T) {
	now := t0.Add(time.Hour)
	target := func(pod string, s v1alpha1.HealthStatus) v1alpha1.TargetStatus {
		return v1alpha1.TargetStatus{Pod: pod, Container: "app", Status: s}
	}
	ready := func(status metav1.ConditionStatus, reason, message string, at time.Time) []metav1.Condition {
		return []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: message, ObservedGeneration: 3, LastTransitionTime: metav1.NewTime(at)}}
	}

	tests := map[string]struct {
		in   statusInput
		want v1alpha1.HealthCheckStatus
	}{
		"all healthy": {
			in: statusInput{Targets: []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy), target("b", v1alpha1.Healthy)}},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallHealthy, Ready: "2/2", Healthy: 2, Total: 2,
				Targets:    []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy), target("b", v1alpha1.Healthy)},
				Conditions: ready(metav1.ConditionTrue, v1alpha1.ReasonAllHealthy, "2/2 targets healthy", now)},
		},
		"unhealthy is worst": {
			in: statusInput{Targets: []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy), target("b", v1alpha1.Starting), target("c", v1alpha1.Unhealthy)}},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallUnhealthy, Ready: "1/3", Healthy: 1, Starting: 1, Unhealthy: 1, Total: 3,
				Targets:    []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy), target("b", v1alpha1.Starting), target("c", v1alpha1.Unhealthy)},
				Conditions: ready(metav1.ConditionFalse, v1alpha1.ReasonSomeUnhealthy, "1/3 targets unhealthy: c", now)},
		},
		"starting before healthy": {
			in: statusInput{Targets: []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy), target("b", v1alpha1.Starting)}},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallStarting, Ready: "1/2", Healthy: 1, Starting: 1, Total: 2,
				Targets:    []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy), target("b", v1alpha1.Starting)},
				Conditions: ready(metav1.ConditionFalse, v1alpha1.ReasonSomeStarting, "1/2 targets starting: b", now)},
		},
		"no targets: none": {
			in: statusInput{},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallNone, Ready: "0/0",
				Conditions: ready(metav1.ConditionFalse, v1alpha1.ReasonNoTargets, "No pod matches the selector", now)},
		},
		"NONE: none, whatever the pods": {
			in: statusInput{Disabled: true, Targets: []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy)}},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallNone, Ready: "0/0",
				Conditions: ready(metav1.ConditionFalse, v1alpha1.ReasonCheckDisabled, "The test is NONE: no check runs", now)},
		},
		"invalid selector": {
			in: statusInput{SelectorError: errors.New("bad operator")},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallNone, Ready: "0/0",
				Conditions: ready(metav1.ConditionFalse, v1alpha1.ReasonInvalidSelector, "Invalid selector: bad operator", now)},
		},
		"many unhealthy pods are named up to a limit": {
			in: statusInput{Targets: []v1alpha1.TargetStatus{target("a", v1alpha1.Unhealthy), target("b", v1alpha1.Unhealthy), target("c", v1alpha1.Unhealthy),
				target("d", v1alpha1.Unhealthy), target("e", v1alpha1.Unhealthy), target("f", v1alpha1.Unhealthy), target("g", v1alpha1.Unhealthy)}},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallUnhealthy, Ready: "0/7", Unhealthy: 7, Total: 7,
				Targets: []v1alpha1.TargetStatus{target("a", v1alpha1.Unhealthy), target("b", v1alpha1.Unhealthy), target("c", v1alpha1.Unhealthy),
					target("d", v1alpha1.Unhealthy), target("e", v1alpha1.Unhealthy), target("f", v1alpha1.Unhealthy), target("g", v1alpha1.Unhealthy)},
				Conditions: ready(metav1.ConditionFalse, v1alpha1.ReasonSomeUnhealthy, "7/7 targets unhealthy: a, b, c, d, e and 2 more", now)},
		},
		"a condition whose status holds keeps its transition time": {
			in: statusInput{Targets: []v1alpha1.TargetStatus{target("a", v1alpha1.Unhealthy)},
				PreviousConditions: ready(metav1.ConditionFalse, v1alpha1.ReasonSomeStarting, "old", t0)},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallUnhealthy, Ready: "0/1", Unhealthy: 1, Total: 1,
				Targets:    []v1alpha1.TargetStatus{target("a", v1alpha1.Unhealthy)},
				Conditions: ready(metav1.ConditionFalse, v1alpha1.ReasonSomeUnhealthy, "1/1 targets unhealthy: a", t0)},
		},
		"a condition that flips gets a new transition time": {
			in: statusInput{Targets: []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy)},
				PreviousConditions: ready(metav1.ConditionFalse, v1alpha1.ReasonSomeStarting, "old", t0)},
			want: v1alpha1.HealthCheckStatus{Status: v1alpha1.OverallHealthy, Ready: "1/1", Healthy: 1, Total: 1,
				Targets:    []v1alpha1.TargetStatus{target("a", v1alpha1.Healthy)},
				Conditions: ready(metav1.ConditionTrue, v1alpha1.ReasonAllHealthy, "1/1 targets healthy", now)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.in.Generation, tc.in.Now = 3, now
			tc.want.ObservedGeneration = 3
			if diff := cmp.Diff(tc.want, computeStatus(tc.in)); diff != "" {
				t.Errorf("computeStatus() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
