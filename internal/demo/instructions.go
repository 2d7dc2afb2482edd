package demo

import (
	"io"
	"path/filepath"
	"strings"
	"text/template"
)

// instructions is what `make demo` prints once everything runs. Paths are relative to the
// directory the demo was started from when they lie under it, so that they can be pasted.
var instructions = template.Must(template.New("demo").Parse(`
dockprobe demo is running: kube-apiserver {{.Host}}, simulated node {{.Node}}{{if .Operator}}, the operator{{end}}.
{{- if not .Operator}}

The operator is not running here (-operator=false). Run it against this cluster with:

  KUBECONFIG={{.Kubeconfig}} make run
{{- end}}

In another terminal:

  export KUBECONFIG={{.Kubeconfig}}
  kubectl get healthchecks -w              # READY and STATUS of each HealthCheck
  kubectl get healthchecks -o wide
  kubectl describe healthcheck flappy      # failing streak and the last 5 results
  kubectl get events -w

What to look at:

  web      two pods, healthy: their check is ` + "`cat status`" + `.
  flappy   make it unhealthy (after 3 failed checks):
             rm {{.Pods}}/default/flappy/ready
           and healthy again (at the next check):
             touch {{.Pods}}/default/flappy/ready
  warmup   start period: its first 4 checks fail, yet it goes from starting to healthy.
  stuck    timeout: its check hangs, so every result is "Health check exceeded timeout (1s)":
             kubectl get healthcheck stuck -o jsonpath='{.status.targets[0].log[-1].output}'

Checks run as real processes in {{.Pods}}/<namespace>/<pod>/ (pods you create get one too).
The manifests are in config/demo/. Ctrl-C stops everything and removes {{.Dir}}/.
`))

// PrintInstructions writes the kubeconfig export line, the kubectl commands to watch and
// the commands that make the flappy pod unhealthy and healthy again. cwd is where the
// user's shell is, for relative paths; "" prints absolute ones.
func (e *Env) PrintInstructions(w io.Writer, cwd string) error {
	return instructions.Execute(w, struct {
		Host, Node, Kubeconfig, Pods, Dir string
		Operator                          bool
	}{
		Operator:   e.operator,
		Host:       e.Host(),
		Node:       NodeName,
		Kubeconfig: e.Kubeconfig(),
		Pods:       relativeTo(cwd, e.PodsDir()),
		Dir:        relativeTo(cwd, e.dir),
	})
}

func relativeTo(cwd, path string) string {
	if cwd == "" {
		return path
	}
	rel, err := filepath.Rel(cwd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}
