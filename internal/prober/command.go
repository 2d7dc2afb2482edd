package prober

import (
	"fmt"
	"slices"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// Docker's default shells for CMD-SHELL when the container configures none.
var (
	defaultShell        = []string{"/bin/sh", "-c"}
	defaultWindowsShell = []string{"cmd", "/S", "/C"}
)

// errNoCommand mirrors Docker's validation message for ["CMD"] without a command. The CRD
// rejects such a test, so a monitor only sees it when a Config is built by hand; every probe
// then fails with this text instead of running an empty exec.
func errNoCommand(containerID string) error {
	return fmt.Errorf("healthcheck for container %s has no command", containerID)
}

// buildCommand turns a test into the argv to exec, as Docker's cmdProbe does:
// CMD runs test[1:] directly; CMD-SHELL runs shell + test[1:] (the script, then any further
// elements as more arguments). It returns nil for NONE (nothing to run).
func buildCommand(cfg Config, t Target) ([]string, error) {
	if len(cfg.Test) == 0 {
		return nil, fmt.Errorf("healthcheck for container %s has no test", t.ContainerID)
	}
	switch kind, args := cfg.Test[0], cfg.Test[1:]; kind {
	case v1alpha1.TestNone:
		return nil, nil
	case v1alpha1.TestCmd:
		if len(args) == 0 || args[0] == "" {
			return nil, errNoCommand(t.ContainerID)
		}
		return slices.Clone(args), nil
	case v1alpha1.TestCmdShell:
		if len(args) == 0 || args[0] == "" {
			return nil, errNoCommand(t.ContainerID)
		}
		return slices.Concat(shellFor(cfg, t), args), nil
	default:
		return nil, fmt.Errorf("unknown healthcheck type %q (expected CMD, CMD-SHELL or NONE) for container %s", kind, t.ContainerID)
	}
}

// shellFor is Docker's getShell: the configured shell, else the platform's default.
func shellFor(cfg Config, t Target) []string {
	switch {
	case len(cfg.Shell) > 0:
		return cfg.Shell
	case t.Windows:
		return defaultWindowsShell
	default:
		return defaultShell
	}
}
