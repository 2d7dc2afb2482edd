package demo

import (
	"os"
	"path/filepath"
)

// seeds are the files config/demo's checks read, written into each pod's directory before
// the pods exist so that the first check already finds them. Pods keyed "namespace/name".
var seeds = map[string]map[string]string{
	"default/web-1":  {"status": "OK\n"},
	"default/web-2":  {"status": "OK\n"},
	"default/flappy": {"ready": ""},
}

func writeSeeds(podsDir string) error {
	for pod, files := range seeds {
		dir := filepath.Join(podsDir, filepath.FromSlash(pod))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
