package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// manifestFiles are config/demo's files in the order they are applied: pods first, so
// that a HealthCheck's first status already counts them.
var manifestFiles = []string{"pods.yaml", "healthchecks.yaml"}

// applyManifests creates every object of dir's manifest files, in the default namespace
// unless one is given. Objects that already exist are left as they are.
func applyManifests(ctx context.Context, c client.Client, dir string) error {
	for _, name := range manifestFiles {
		objs, err := readManifest(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		for _, obj := range objs {
			if obj.GetNamespace() == "" {
				obj.SetNamespace("default")
			}
			if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("creating %s %s from %s: %w", obj.GetKind(), obj.GetName(), name, err)
			}
		}
	}
	return nil
}

// readManifest decodes a multi-document YAML file.
func readManifest(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decoding %s: %w", path, err)
		}
		if len(obj.Object) > 0 { // an empty document between two "---"
			out = append(out, obj)
		}
	}
}
