package kubeletsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

const (
	// A kubelet's defaults: streams must open within 30s and may idle for 4h.
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
	streamIdleTimeout     = 4 * time.Hour
)

// serveExec is the kubelet's exec endpoint:
// /exec/{namespace}/{pod}[/{uid}]/{container}?command=...&output=1&error=1
func (n *Node) serveExec(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "exec takes GET (WebSocket) or POST (SPDY)", http.StatusMethodNotAllowed)
		return
	}
	streamOpts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cmd := r.URL.Query()[corev1.ExecCommandParam]
	a := &execAdapter{node: n, namespace: r.PathValue("namespace")}
	remotecommand.ServeExec(w, r, a, r.PathValue("pod"), r.PathValue("uid"), r.PathValue("container"), cmd,
		streamOpts, streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// execAdapter runs one exec for ServeExec: admission by the runtime, the handler, the
// counters, and the translation of the outcome into what ServeExec reports.
type execAdapter struct {
	node      *Node
	namespace string
}

var _ remotecommand.Executor = (*execAdapter)(nil)

func (a *execAdapter) ExecInContainer(ctx context.Context, podName, _ string, container string, cmd []string,
	in io.Reader, out, errOut io.WriteCloser, _ bool, _ <-chan remotecommand.TerminalSize, _ time.Duration) error {
	n := a.node
	key := podKey{a.namespace, podName}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	target, id, err := n.runtime.beginExec(key, container, cancel)
	if err != nil {
		n.log.V(1).Info("Exec refused", "pod", key.String(), "container", container, "reason", err.Error())
		return err
	}
	defer n.runtime.endExec(key, container, id)

	req := ExecRequest{
		Namespace: a.namespace, Pod: podName, PodUID: target.podUID, Container: container,
		ContainerID: target.containerID, Cmd: slices.Clone(cmd), Stdin: in,
	}
	if pod := n.pods.get(key.String()); pod != nil {
		req.Labels, req.Annotations = maps.Clone(pod.Labels), maps.Clone(pod.Annotations)
	}
	handler := n.handlers.lookup(containerRef{namespace: a.namespace, pod: podName, container: container})

	recordID := n.records.begin(req, n.clock.Now())
	code, herr := callHandler(ctx, handler, req, writerOrDiscard(out), writerOrDiscard(errOut))
	// Streams end before the status, as when a process exits and its pipes close.
	closeIfSet(out)
	closeIfSet(errOut)

	result := herr
	if ctx.Err() != nil {
		// The handler's answer no longer counts once its container or node is gone.
		result = context.Cause(ctx)
	} else if herr == nil && code != 0 {
		result = utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: code}
	}
	n.records.end(recordID, code, result, n.clock.Now())
	n.log.V(2).Info("Exec finished", "pod", key.String(), "container", container, "cmd", cmd, "exitCode", code, "error", errString(result))

	if errors.Is(result, errClientGone) {
		return nil // nobody is left to tell, and an error here would only be logged by ServeExec
	}
	return result
}

// callHandler turns a handler's panic into the exec's error, so that a broken script fails
// one exec instead of leaving it counted in flight forever.
func callHandler(ctx context.Context, h Handler, req ExecRequest, stdout, stderr io.Writer) (code int, err error) {
	defer func() {
		if r := recover(); r != nil {
			code, err = 0, fmt.Errorf("exec handler panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, req, stdout, stderr)
}

func writerOrDiscard(w io.WriteCloser) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func closeIfSet(w io.WriteCloser) {
	if w != nil {
		_ = w.Close()
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
