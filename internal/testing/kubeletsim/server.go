package kubeletsim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// nodeIP is where the API server finds the simulated kubelet.
const nodeIP = "127.0.0.1"

var (
	errClientGone  = errors.New("exec connection closed by the API server")
	errNodeStopped = errors.New("node stopped")
)

// kubeletServer is the simulated kubelet's HTTPS endpoint. It speaks HTTP/1.1 only, since
// the upgrades behind exec cannot ride HTTP/2, and it tracks connections itself: net/http
// forgets a connection once it is hijacked for an upgrade, so neither Server.Shutdown nor
// a request context would notice that the API server hung up.
//
// The tracking sits above TLS, where a close_notify from the API server reads as io.EOF
// (below TLS the socket would never be read again after it). The price is that net/http
// sees a plain net.Conn: Request.TLS is nil, which the exec endpoint does not need.
type kubeletServer struct {
	http     *http.Server
	listener *trackingListener
	// stop ends the base context of every request, with errNodeStopped as the cause.
	stop      context.CancelCauseFunc
	serveDone chan struct{}
	// requests counts handlers running, hijacked or not, so that shutdown can wait for them.
	requests sync.WaitGroup
}

func startKubeletServer(logger logr.Logger, handler http.Handler) (*kubeletServer, error) {
	cert, err := selfSignedCert()
	if err != nil {
		return nil, err
	}
	inner, err := net.Listen("tcp", net.JoinHostPort(nodeIP, "0"))
	if err != nil {
		return nil, err
	}
	baseCtx, stop := context.WithCancelCause(context.Background())
	tlsListener := tls.NewListener(inner, &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	})
	s := &kubeletServer{
		listener:  &trackingListener{Listener: tlsListener, conns: map[*trackedConn]struct{}{}},
		stop:      stop,
		serveDone: make(chan struct{}),
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	s.http = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.requests.Add(1)
			defer s.requests.Done()
			handler.ServeHTTP(w, r)
		}),
		Protocols:         &protocols,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ConnContext:       connContext,
		ErrorLog:          log.New(logWriter{logger}, "", 0),
	}
	go func() {
		defer close(s.serveDone)
		if err := s.http.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(err, "Kubelet server stopped")
		}
	}()
	return s, nil
}

func (s *kubeletServer) port() int { return s.listener.Addr().(*net.TCPAddr).Port }

// shutdown stops accepting, ends every request's context so handlers return, closes the
// connections net/http no longer tracks, and waits for the handlers.
func (s *kubeletServer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.stop(errNodeStopped)
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
	}
	<-s.serveDone
	handlersDone := make(chan struct{})
	go func() {
		s.requests.Wait()
		close(handlersDone)
	}()
	// Give handlers a moment to send "node stopped" to their clients; then close the
	// connections, which also frees a handler blocked writing to a client that stopped
	// reading.
	select {
	case <-handlersDone:
	case <-time.After(2 * time.Second):
	}
	s.listener.closeAll()
	<-handlersDone
}

// connContext gives each connection's requests a context that ends when the API server
// closes the connection, hijacked or not.
func connContext(ctx context.Context, c net.Conn) context.Context {
	tc, ok := c.(*trackedConn)
	if !ok {
		return ctx
	}
	ctx, cancel := context.WithCancelCause(ctx)
	context.AfterFunc(tc.gone, func() { cancel(errClientGone) })
	return ctx
}

// trackingListener remembers its open connections so that shutdown can close the ones
// hijacked for upgrades.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	gone, markGone := context.WithCancel(context.Background())
	tc := &trackedConn{Conn: c, gone: gone, markGone: markGone, listener: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// trackedConn is a TLS connection whose gone context ends when a read fails for good or
// it is closed.
type trackedConn struct {
	net.Conn
	gone     context.Context
	markGone context.CancelFunc
	listener *trackingListener
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	// net/http aborts its background read with a deadline in the past when it hands the
	// connection over to an upgrade: a timeout is not the peer going away.
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		c.markGone()
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.markGone()
	c.listener.mu.Lock()
	delete(c.listener.conns, c)
	c.listener.mu.Unlock()
	return c.Conn.Close()
}

// selfSignedCert is good enough: the API server does not verify a kubelet's certificate
// unless it was given a kubelet CA, and envtest gives it none.
func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "kubeletsim"},
		IPAddresses:  []net.IP{net.ParseIP(nodeIP)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("creating serving certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// logWriter sends net/http's own complaints (TLS handshake errors and the like) to logr.
type logWriter struct{ logger logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.logger.V(1).Info("HTTP server", "message", string(p))
	return len(p), nil
}
