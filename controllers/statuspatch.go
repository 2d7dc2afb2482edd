package controllers

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// patchStatus writes the whole status with a JSON merge patch of the status subresource.
// The patch names every field, null for the empty ones, so the result does not depend on
// what the server had (a cache may lag behind the last write); the operator is the
// status' only writer.
func (r *reconciler) patchStatus(ctx context.Context, hc *v1alpha1.HealthCheck, st *v1alpha1.HealthCheckStatus) error {
	body, err := statusMergePatch(st)
	if err != nil {
		return err
	}
	obj := &v1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: hc.Namespace, Name: hc.Name}}
	return r.client.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, body), client.FieldOwner(FieldOwner))
}

// statusFields are the JSON names of HealthCheckStatus' fields.
var statusFields = func() []string {
	t := reflect.TypeFor[v1alpha1.HealthCheckStatus]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}()

// statusMergePatch is {"status": st}, with null for every field st leaves out.
func statusMergePatch(st *v1alpha1.HealthCheckStatus) ([]byte, error) {
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	for _, name := range statusFields {
		if _, ok := fields[name]; !ok {
			fields[name] = json.RawMessage("null")
		}
	}
	return json.Marshal(map[string]any{"status": fields})
}
