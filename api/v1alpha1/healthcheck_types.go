package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HealthCheckSpec is the desired check, with Docker's HEALTHCHECK options.
//
// +kubebuilder:validation:XValidation:rule="!has(self.shell) || size(self.test) == 0 || self.test[0] == 'CMD-SHELL'",message="shell is only used with a CMD-SHELL test"
type HealthCheckSpec struct {
	// Selector picks the pods to check, in the HealthCheck's own namespace.
	// An empty selector selects every pod of the namespace.
	// +required
	Selector metav1.LabelSelector `json:"selector"`

	// Container is the name of the container to check in each selected pod.
	// When empty: the pod's kubectl.kubernetes.io/default-container annotation, else its first container.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Container string `json:"container,omitempty"`

	// Test is the check, as Docker's HEALTHCHECK Test:
	// ["CMD", "executable", "arg", ...] runs the executable directly;
	// ["CMD-SHELL", "script"] runs the script with the shell (see shell);
	// ["NONE"] disables the check.
	// Exit code 0 means healthy; any other exit code is a failure.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=16384
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="test must not be empty: use [\"CMD\", ...], [\"CMD-SHELL\", \"script\"] or [\"NONE\"]"
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || self[0] in ['CMD', 'CMD-SHELL', 'NONE']",messageExpression="'Unknown type \"' + self[0] + '\" in test (try CMD, CMD-SHELL or NONE)'"
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || !(self[0] in ['CMD', 'CMD-SHELL']) || (size(self) > 1 && self[1] != '')",messageExpression="'test ' + self[0] + ' has no command'"
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || self[0] != 'NONE' || size(self) == 1",message="test NONE takes no arguments"
	Test []string `json:"test"`

	// Shell runs a CMD-SHELL test: the script is appended to it as one argument.
	// Default ["/bin/sh", "-c"]; for pods with spec.os.name windows, ["cmd", "/S", "/C"].
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=4096
	Shell []string `json:"shell,omitempty"`

	// Interval is the wait between the end of one probe and the start of the next,
	// and before the first probe. 0 means the default, 30s.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$`
	// +kubebuilder:validation:XValidation:rule="duration(self) == duration('0s') || duration(self) >= duration('1ms')",message="Interval in Healthcheck cannot be less than 1ms"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Timeout is how long one probe may run, counted from the moment its exec has started.
	// A probe running longer is cancelled and counts as a failure. 0 means the default, 30s.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$`
	// +kubebuilder:validation:XValidation:rule="duration(self) == duration('0s') || duration(self) >= duration('1ms')",message="Timeout in Healthcheck cannot be less than 1ms"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// StartPeriod is the grace period after the container started: until the first success,
	// failures inside it do not count towards retries. 0 (the default) means none.
	// +optional
	// +kubebuilder:default="0s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$`
	// +kubebuilder:validation:XValidation:rule="duration(self) == duration('0s') || duration(self) >= duration('1ms')",message="StartPeriod in Healthcheck cannot be less than 1ms"
	StartPeriod *metav1.Duration `json:"startPeriod,omitempty"`

	// StartInterval is the interval used while inside the start period and still starting.
	// It has no effect when startPeriod is 0. 0 means the default, 5s.
	// +optional
	// +kubebuilder:default="5s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$`
	// +kubebuilder:validation:XValidation:rule="duration(self) == duration('0s') || duration(self) >= duration('1ms')",message="StartInterval in Healthcheck cannot be less than 1ms"
	StartInterval *metav1.Duration `json:"startInterval,omitempty"`

	// Retries is the number of consecutive failures that make a container unhealthy.
	// 0 means the default, 3.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="Retries in Healthcheck cannot be negative"
	Retries *int32 `json:"retries,omitempty"`
}

// HealthStatus is a container's health as Docker reports it.
// +kubebuilder:validation:Enum=starting;healthy;unhealthy
type HealthStatus string

// The health states of one container, spelled as Docker spells them.
const (
	Starting  HealthStatus = "starting"
	Healthy   HealthStatus = "healthy"
	Unhealthy HealthStatus = "unhealthy"
)

// OverallStatus summarises every target of a HealthCheck.
// +kubebuilder:validation:Enum=none;starting;healthy;unhealthy
type OverallStatus string

// Overall states: none when nothing is checked (no target, or test NONE); else the
// worst state among the targets, unhealthy before starting before healthy.
const (
	OverallNone      OverallStatus = "none"
	OverallStarting  OverallStatus = "starting"
	OverallHealthy   OverallStatus = "healthy"
	OverallUnhealthy OverallStatus = "unhealthy"
)

// HealthLogEntry is the result of one probe, as an entry of Docker's State.Health.Log.
type HealthLogEntry struct {
	// Start is when the probe started.
	Start metav1.MicroTime `json:"start"`
	// End is when the probe ended.
	End metav1.MicroTime `json:"end"`
	// ExitCode is the check's exit code; -1 when it could not run or timed out.
	ExitCode int32 `json:"exitCode"`
	// Output is the check's combined stdout and stderr (at most 4096 bytes, then "..."),
	// or the reason it could not run. The operator may shorten older entries to keep the
	// status within its size budget; such outputs end with "...".
	// +optional
	Output string `json:"output,omitempty"`
}

// TargetStatus is the health of one container of one selected pod.
type TargetStatus struct {
	// Pod is the name of the pod.
	Pod string `json:"pod"`
	// Container is the name of the checked container.
	Container string `json:"container"`
	// ContainerID is the runtime's ID of the container instance the health belongs to.
	// +optional
	ContainerID string `json:"containerID,omitempty"`
	// Status is the container's health: starting, healthy or unhealthy.
	Status HealthStatus `json:"status"`
	// FailingStreak is the number of consecutive failed probes.
	FailingStreak int32 `json:"failingStreak"`
	// Log holds the last probe results, oldest first (at most 5).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=5
	Log []HealthLogEntry `json:"log,omitempty"`
	// Message says why the container is not being probed, when it is not.
	// +optional
	Message string `json:"message,omitempty"`
}

// HealthCheckStatus is what the operator observed. Only the operator writes it.
type HealthCheckStatus struct {
	// ObservedGeneration is the spec generation this status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Status is the overall health: none, starting, healthy or unhealthy.
	// +optional
	Status OverallStatus `json:"status,omitempty"`
	// Ready is "healthy/total", as kubectl shows it.
	// +optional
	Ready string `json:"ready,omitempty"`
	// Healthy is the number of healthy targets.
	// +optional
	Healthy int32 `json:"healthy"`
	// Unhealthy is the number of unhealthy targets.
	// +optional
	Unhealthy int32 `json:"unhealthy"`
	// Starting is the number of targets still starting.
	// +optional
	Starting int32 `json:"starting"`
	// Total is the number of targets.
	// +optional
	Total int32 `json:"total"`
	// Targets is the health of each selected pod's container.
	// +optional
	// +listType=map
	// +listMapKey=pod
	Targets []TargetStatus `json:"targets,omitempty"`
	// Conditions: Ready is True when every target is healthy.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// HealthCheck runs a Docker-style HEALTHCHECK in the containers of the pods it selects
// and reports each one's health, failing streak and last results.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dhc,categories=dockprobe
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.ready`,description="Healthy targets / all targets"
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.status`,description="Overall health"
// +kubebuilder:printcolumn:name="Unhealthy",type=integer,JSONPath=`.status.unhealthy`,priority=1
// +kubebuilder:printcolumn:name="Starting",type=integer,JSONPath=`.status.starting`,priority=1
// +kubebuilder:printcolumn:name="Interval",type=string,JSONPath=`.spec.interval`,priority=1
// +kubebuilder:printcolumn:name="Test",type=string,JSONPath=`.spec.test`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HealthCheck struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired check.
	// +required
	Spec HealthCheckSpec `json:"spec"`
	// Status is the observed health of the selected containers.
	// +optional
	Status HealthCheckStatus `json:"status,omitempty"`
}

// HealthCheckList is a list of HealthChecks.
//
// +kubebuilder:object:root=true
type HealthCheckList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HealthCheck `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HealthCheck{}, &HealthCheckList{})
}
