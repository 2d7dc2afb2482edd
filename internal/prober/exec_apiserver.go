package prober

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
	streamhttp "k8s.io/streaming/pkg/httpstream"
)

// apiServerExecer runs probes through the API server's pods/exec subresource, as
// `kubectl exec` does: WebSocket (v5.channel.k8s.io) first, SPDY when the upgrade fails.
// Read-only after construction, so safe for concurrent use; every Exec builds its own
// executors because client-go's are neither reusable nor safe for concurrent streams.
type apiServerExecer struct {
	config *rest.Config
	core   rest.Interface
	// protocols is protocolsFallback in production; tests pin one protocol.
	protocols execProtocols
}

// execProtocols selects the streaming protocols an apiServerExecer speaks.
type execProtocols int

const (
	protocolsFallback execProtocols = iota // WebSocket, then SPDY if the upgrade fails
	protocolsWebSocket
	protocolsSPDY
)

var _ Execer = (*apiServerExecer)(nil)

// NewAPIServerExecer execs through the API server (pods/exec), WebSocket with SPDY fallback.
// cfg needs get and create on pods/exec.
func NewAPIServerExecer(cfg *rest.Config) (Execer, error) {
	cfg = rest.CopyConfig(cfg)
	// Every exec builds its own transports (client-go's upgrading round trippers cannot be
	// shared): read the certificate files once here, not on every probe.
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return nil, fmt.Errorf("loading TLS files: %w", err)
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the core/v1 client: %w", err)
	}
	return &apiServerExecer{config: cfg, core: core.RESTClient()}, nil
}

// Exec runs cmd in t's container, without TTY or stdin, and returns its exit status.
// started is called when the exec stream is established; see doc.go for what that means
// for each protocol.
func (e *apiServerExecer) Exec(ctx context.Context, t Target, cmd []string, stdout, stderr io.Writer, started func()) (int, error) {
	url := e.core.Post().
		Namespace(t.Namespace).
		Resource("pods").
		Name(t.Pod).
		SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: t.Container,
			Command:   cmd,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec).
		URL()

	exec, err := e.executor(url, started)
	if err != nil {
		return exitProbeError, err
	}
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: stderr})
	if err == nil {
		return exitHealthy, nil
	}
	if exitErr, ok := errors.AsType[utilexec.ExitError](err); ok && exitErr.Exited() {
		return exitErr.ExitStatus(), nil
	}
	return exitProbeError, err
}

// executor builds the executors of one exec, each reporting the 101 it sees to started.
func (e *apiServerExecer) executor(url *neturl.URL, started func()) (remotecommand.Executor, error) {
	// WebSocket: the 101 is observed by a round tripper placed innermost, right around the
	// WebSocket dialer (client-go dials it itself and offers no other hook).
	wsConfig := rest.CopyConfig(e.config)
	wsConfig.WrapTransport = observeSwitchingProtocols(e.config.WrapTransport, started)
	ws, err := remotecommand.NewWebSocketExecutor(wsConfig, http.MethodGet, url.String())
	if err != nil || e.protocols == protocolsWebSocket {
		return ws, err
	}
	// SPDY: the upgrader is wrapped; it sees the 101 and builds the connection. Built
	// only when used: with fallback, only after the WebSocket upgrade failed.
	sp := lazyExecutor(func() (remotecommand.Executor, error) {
		transport, upgrader, err := spdy.RoundTripperFor(e.config)
		if err != nil {
			return nil, err
		}
		return remotecommand.NewSPDYExecutorForTransports(transport, startedUpgrader{Upgrader: upgrader, started: started}, http.MethodPost, url)
	})
	if e.protocols == protocolsSPDY {
		return sp, nil
	}
	return remotecommand.NewFallbackExecutor(ws, sp, shouldFallBackToSPDY)
}

// lazyExecutor builds its executor when a stream starts.
type lazyExecutor func() (remotecommand.Executor, error)

func (l lazyExecutor) Stream(options remotecommand.StreamOptions) error {
	return l.StreamWithContext(context.Background(), options)
}

func (l lazyExecutor) StreamWithContext(ctx context.Context, options remotecommand.StreamOptions) error {
	exec, err := l()
	if err != nil {
		return err
	}
	return exec.StreamWithContext(ctx, options)
}

// shouldFallBackToSPDY is kubectl's rule: the WebSocket upgrade itself failed (an older API
// server, or a proxy that cannot carry it).
func shouldFallBackToSPDY(err error) bool {
	return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err)
}

// observeSwitchingProtocols returns a transport wrapper that calls started when the round
// trip it wraps answers 101 Switching Protocols, then applies next (the caller's own
// WrapTransport, if any) outside it.
func observeSwitchingProtocols(next func(http.RoundTripper) http.RoundTripper, started func()) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		rt = &switchingProtocolsObserver{next: rt, started: started}
		if next != nil {
			rt = next(rt)
		}
		return rt
	}
}

// switchingProtocolsObserver reports a successful protocol upgrade.
type switchingProtocolsObserver struct {
	next    http.RoundTripper
	started func()
}

func (o *switchingProtocolsObserver) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(req)
	if err == nil && resp != nil && resp.StatusCode == http.StatusSwitchingProtocols {
		o.started()
	}
	return resp, err
}

// WrappedRoundTripper lets client-go find the TLS configuration underneath.
func (o *switchingProtocolsObserver) WrappedRoundTripper() http.RoundTripper { return o.next }

// startedUpgrader reports the SPDY connection once the upgrade response has been accepted.
type startedUpgrader struct {
	spdy.Upgrader
	started func()
}

func (u startedUpgrader) NewConnection(resp *http.Response) (httpstream.Connection, error) {
	conn, err := u.Upgrader.NewConnection(resp)
	if err == nil {
		u.started()
	}
	return conn, err
}
