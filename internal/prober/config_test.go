package prober

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

func TestConfigFromSpec(t *testing.T) {
	d := func(s string) *metav1.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return &metav1.Duration{Duration: v}
	}
	tests := map[string]struct {
		spec v1alpha1.HealthCheckSpec
		want Config
	}{
		"unset fields get Docker's defaults": {
			spec: v1alpha1.HealthCheckSpec{Test: []string{"CMD", "true"}},
			want: Config{Test: []string{"CMD", "true"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 3},
		},
		"explicit zeros get Docker's defaults": {
			spec: v1alpha1.HealthCheckSpec{Test: []string{"CMD", "true"}, Interval: d("0s"), Timeout: d("0s"), StartPeriod: d("0s"), StartInterval: d("0s"), Retries: ptr.To[int32](0)},
			want: Config{Test: []string{"CMD", "true"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 3},
		},
		"everything set": {
			spec: v1alpha1.HealthCheckSpec{
				Test: []string{"CMD-SHELL", "exit 0"}, Shell: []string{"/bin/bash", "-c"},
				Interval: d("1m30s"), Timeout: d("500ms"), StartPeriod: d("40s"), StartInterval: d("1s"), Retries: ptr.To[int32](5),
			},
			want: Config{
				Test: []string{"CMD-SHELL", "exit 0"}, Shell: []string{"/bin/bash", "-c"},
				Interval: 90 * time.Second, Timeout: 500 * time.Millisecond, StartPeriod: 40 * time.Second, StartInterval: time.Second, Retries: 5,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ConfigFromSpec(&tc.spec)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ConfigFromSpec (-want +got):\n%s", diff)
			}
			tc.spec.Test[0] = "changed"
			if got.Test[0] == "changed" {
				t.Errorf("Config shares Test with the spec")
			}
		})
	}
}

func TestConfigEqual(t *testing.T) {
	base := Config{Test: []string{"CMD", "true"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 3}
	with := func(f func(*Config)) Config {
		c := base
		c.Test = append([]string(nil), base.Test...)
		f(&c)
		return c
	}
	tests := map[string]struct {
		a, b Config
		want bool
	}{
		"same":                       {a: base, b: with(func(*Config) {}), want: true},
		"zeros equal their defaults": {a: base, b: Config{Test: []string{"CMD", "true"}}, want: true},
		"retries -1 equals 3":        {a: base, b: with(func(c *Config) { c.Retries = -1 }), want: true},
		"test differs":               {a: base, b: with(func(c *Config) { c.Test[1] = "false" }), want: false},
		"shell differs":              {a: base, b: with(func(c *Config) { c.Shell = []string{"sh", "-c"} }), want: false},
		"interval differs":           {a: base, b: with(func(c *Config) { c.Interval = time.Second }), want: false},
		"timeout differs":            {a: base, b: with(func(c *Config) { c.Timeout = time.Second }), want: false},
		"start period differs":       {a: base, b: with(func(c *Config) { c.StartPeriod = time.Second }), want: false},
		"start interval differs":     {a: base, b: with(func(c *Config) { c.StartInterval = time.Second }), want: false},
		"retries differ":             {a: base, b: with(func(c *Config) { c.Retries = 4 }), want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.a.Equal(tc.b); got != tc.want {
				t.Errorf("Equal = %v, want %v", got, tc.want)
			}
			if got := tc.b.Equal(tc.a); got != tc.want {
				t.Errorf("Equal is not symmetric")
			}
		})
	}
}

func TestTargetEqualComparesInstants(t *testing.T) {
	now := time.Now()
	a := Target{Namespace: "ns", Pod: "p", Container: "c", ContainerID: "id", StartedAt: now}
	b := a
	b.StartedAt = now.Round(0).In(time.FixedZone("x", 3600)) // monotonic reading and location gone
	if !a.Equal(b) {
		t.Errorf("same instant in another representation should be equal")
	}
	b.StartedAt = now.Add(time.Second)
	if a.Equal(b) {
		t.Errorf("different StartedAt should differ")
	}
}
