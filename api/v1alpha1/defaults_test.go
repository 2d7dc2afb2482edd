package v1alpha1_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

func TestEffectiveSettingsApplyDockerDefaults(t *testing.T) {
	d := func(s string) *metav1.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return &metav1.Duration{Duration: v}
	}
	type want struct {
		interval, timeout, startPeriod, startInterval time.Duration
		retries                                       int
	}
	tests := map[string]struct {
		spec v1alpha1.HealthCheckSpec
		want want
	}{
		"unset": {
			spec: v1alpha1.HealthCheckSpec{},
			want: want{30 * time.Second, 30 * time.Second, 0, 5 * time.Second, 3},
		},
		"explicit zero means default": {
			spec: v1alpha1.HealthCheckSpec{Interval: d("0s"), Timeout: d("0s"), StartPeriod: d("0s"), StartInterval: d("0s"), Retries: ptr.To[int32](0)},
			want: want{30 * time.Second, 30 * time.Second, 0, 5 * time.Second, 3},
		},
		"set": {
			spec: v1alpha1.HealthCheckSpec{Interval: d("1m30s"), Timeout: d("50ms"), StartPeriod: d("30s"), StartInterval: d("1s"), Retries: ptr.To[int32](1)},
			want: want{90 * time.Second, 50 * time.Millisecond, 30 * time.Second, time.Second, 1},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := want{tc.spec.EffectiveInterval(), tc.spec.EffectiveTimeout(), tc.spec.EffectiveStartPeriod(), tc.spec.EffectiveStartInterval(), tc.spec.EffectiveRetries()}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	for test, want := range map[string]bool{"NONE": true, "CMD": false, "CMD-SHELL": false} {
		spec := v1alpha1.HealthCheckSpec{Test: []string{test}}
		if got := spec.Disabled(); got != want {
			t.Errorf("Disabled(%q) = %v, want %v", test, got, want)
		}
	}
	if (&v1alpha1.HealthCheckSpec{}).Disabled() {
		t.Error("an empty test is not NONE")
	}
}
