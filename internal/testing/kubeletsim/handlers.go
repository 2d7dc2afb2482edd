package kubeletsim

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// ExecRequest describes one exec into a simulated container. Handlers get their own copy.
type ExecRequest struct {
	Namespace   string
	Pod         string
	PodUID      types.UID
	Container   string
	ContainerID string // "containerd://<hex>", changes on every (re)start
	Cmd         []string
	// Labels and Annotations of the pod as the node's informer last saw them, so one
	// handler can answer differently per kind of pod.
	Labels      map[string]string
	Annotations map[string]string
	// Stdin is nil unless the client asked for a stdin stream.
	Stdin io.Reader
}

// Handler answers an exec. stdout and stderr are the exec's streams (io.Discard when the
// client did not ask for one). A non-zero exitCode reaches the client as client-go's exit
// error with ExitStatus() == exitCode; a non-nil err reaches it as an internal error
// instead. ctx ends when the client goes away, the container stops or restarts, the pod
// terminates, or the node stops; a handler must return soon after, because Node.Stop waits
// for it.
type Handler func(ctx context.Context, req ExecRequest, stdout, stderr io.Writer) (exitCode int, err error)

// Reply writes output to stdout and exits with exitCode.
func Reply(exitCode int, output string) Handler {
	return ReplyStreams(exitCode, output, "")
}

// ReplyStreams writes stdout, then stderr, and exits with exitCode.
func ReplyStreams(exitCode int, stdout, stderr string) Handler {
	return func(_ context.Context, _ ExecRequest, outW, errW io.Writer) (int, error) {
		if err := writeString(outW, stdout); err != nil {
			return 0, err
		}
		if err := writeString(errW, stderr); err != nil {
			return 0, err
		}
		return exitCode, nil
	}
}

// Func adapts a function of the request alone, for answers that depend on the command
// or on the pod's labels. output goes to stdout.
func Func(f func(req ExecRequest) (exitCode int, output string)) Handler {
	return func(_ context.Context, req ExecRequest, stdout, _ io.Writer) (int, error) {
		code, output := f(req)
		if err := writeString(stdout, output); err != nil {
			return 0, err
		}
		return code, nil
	}
}

// Delay waits d, then answers with h. If ctx ends first it returns ctx's cause.
func Delay(d time.Duration, h Handler) Handler {
	return func(ctx context.Context, req ExecRequest, stdout, stderr io.Writer) (int, error) {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-timer.C:
			return h(ctx, req, stdout, stderr)
		}
	}
}

// Hang never answers: it returns only when ctx ends, like a check stuck on a dead disk.
func Hang() Handler {
	return PrintThenHang("")
}

// PrintThenHang writes output to stdout, then hangs like [Hang]. Checks that time out
// after printing must not report the partial output as a result.
func PrintThenHang(output string) Handler {
	return func(ctx context.Context, _ ExecRequest, stdout, _ io.Writer) (int, error) {
		if err := writeString(stdout, output); err != nil {
			return 0, err
		}
		<-ctx.Done()
		return 0, context.Cause(ctx)
	}
}

// Sequence answers the first exec with hs[0], the second with hs[1], and every exec after
// the last handler with that last handler. The position is shared by every container the
// returned Handler is set on: give each container its own Sequence to script it alone.
func Sequence(hs ...Handler) Handler {
	if len(hs) == 0 {
		panic("kubeletsim: Sequence needs at least one handler")
	}
	var calls atomic.Int64
	return func(ctx context.Context, req ExecRequest, stdout, stderr io.Writer) (int, error) {
		i := min(calls.Add(1)-1, int64(len(hs)-1))
		return hs[i](ctx, req, stdout, stderr)
	}
}

// Cycle answers exec i with hs[i % len(hs)], forever: Cycle(Reply(0, ""), Reply(1, ""))
// is a flapping check. Like [Sequence], the position is shared by every container the
// returned Handler is set on.
func Cycle(hs ...Handler) Handler {
	if len(hs) == 0 {
		panic("kubeletsim: Cycle needs at least one handler")
	}
	var calls atomic.Int64
	return func(ctx context.Context, req ExecRequest, stdout, stderr io.Writer) (int, error) {
		i := (calls.Add(1) - 1) % int64(len(hs))
		return hs[i](ctx, req, stdout, stderr)
	}
}

// exitZero is what a container without a scripted handler answers.
func exitZero(context.Context, ExecRequest, io.Writer, io.Writer) (int, error) { return 0, nil }

func writeString(w io.Writer, s string) error {
	if s == "" {
		return nil
	}
	_, err := io.WriteString(w, s)
	return err
}
