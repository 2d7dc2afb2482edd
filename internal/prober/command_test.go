package prober

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuildCommand(t *testing.T) {
	tests := map[string]struct {
		cfg     Config
		target  Target
		want    []string
		wantErr string
	}{
		"CMD runs argv directly": {
			cfg:  Config{Test: []string{"CMD", "cat", "/status"}},
			want: []string{"cat", "/status"},
		},
		"CMD with an argument holding spaces stays one argument": {
			cfg:  Config{Test: []string{"CMD", "curl", "-f", "http://localhost/ health"}},
			want: []string{"curl", "-f", "http://localhost/ health"},
		},
		"CMD-SHELL uses /bin/sh -c by default": {
			cfg:  Config{Test: []string{"CMD-SHELL", "curl -f http://localhost/ || exit 1"}},
			want: []string{"/bin/sh", "-c", "curl -f http://localhost/ || exit 1"},
		},
		"CMD-SHELL on Windows uses cmd /S /C": {
			cfg:    Config{Test: []string{"CMD-SHELL", "exit 0"}},
			target: Target{Windows: true},
			want:   []string{"cmd", "/S", "/C", "exit 0"},
		},
		"CMD-SHELL with a custom shell": {
			cfg:  Config{Test: []string{"CMD-SHELL", "echo ok"}, Shell: []string{"/bin/bash", "-euo", "pipefail", "-c"}},
			want: []string{"/bin/bash", "-euo", "pipefail", "-c", "echo ok"},
		},
		"CMD-SHELL custom shell wins over Windows": {
			cfg:    Config{Test: []string{"CMD-SHELL", "Get-Date"}, Shell: []string{"powershell", "-Command"}},
			target: Target{Windows: true},
			want:   []string{"powershell", "-Command", "Get-Date"},
		},
		"CMD-SHELL extra elements become further arguments": {
			cfg:  Config{Test: []string{"CMD-SHELL", `echo "$0 $1"`, "first", "second"}},
			want: []string{"/bin/sh", "-c", `echo "$0 $1"`, "first", "second"},
		},
		"NONE runs nothing": {
			cfg:  Config{Test: []string{"NONE"}},
			want: nil,
		},
		"CMD without a command": {
			cfg:     Config{Test: []string{"CMD"}},
			target:  Target{ContainerID: "containerd://abc"},
			wantErr: "healthcheck for container containerd://abc has no command",
		},
		"CMD-SHELL with an empty script": {
			cfg:     Config{Test: []string{"CMD-SHELL", ""}},
			target:  Target{ContainerID: "abc"},
			wantErr: "healthcheck for container abc has no command",
		},
		"empty test": {
			cfg:     Config{},
			target:  Target{ContainerID: "abc"},
			wantErr: "healthcheck for container abc has no test",
		},
		"unknown type": {
			cfg:     Config{Test: []string{"HTTP", "/"}},
			target:  Target{ContainerID: "abc"},
			wantErr: `unknown healthcheck type "HTTP" (expected CMD, CMD-SHELL or NONE) for container abc`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildCommand(tc.cfg, tc.target)
			var gotErr string
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildCommandDoesNotAliasConfig(t *testing.T) {
	cfg := Config{Test: []string{"CMD-SHELL", "true"}, Shell: []string{"/bin/sh", "-c"}}
	got, err := buildCommand(cfg, Target{})
	if err != nil {
		t.Fatal(err)
	}
	got[0], got[2] = "x", "y"
	if cfg.Shell[0] != "/bin/sh" || cfg.Test[1] != "true" {
		t.Errorf("changing the argv changed the config: %v %v", cfg.Shell, cfg.Test)
	}
}
