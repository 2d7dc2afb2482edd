package devcluster

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "config", "crd", "bases")); err != nil {
		t.Errorf("RepoRoot() = %s, which has no config/crd/bases: %v", root, err)
	}
}

func TestFindAssetsPrefersTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(EnvAssets, dir)
	// No repository root: the script must not even be looked for.
	got, err := FindAssets("", nil)
	if err != nil || got != dir {
		t.Errorf("FindAssets = (%q, %v), want (%q, nil)", got, err, dir)
	}
}

func TestFindAssetsIgnoresAnIncompleteEnvironment(t *testing.T) {
	t.Setenv(EnvAssets, t.TempDir()) // empty: no binaries
	if _, err := FindAssets("", nil); err == nil {
		t.Error("FindAssets with an empty KUBEBUILDER_ASSETS and no repository: want an error")
	}
}
