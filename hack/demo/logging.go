package main

import (
	"context"
	"log/slog"
	"strings"
)

// quietHandler demotes to debug the errors client-go and cri-streaming log for execs
// that end the way the demo makes them end: each time the stuck sample's check times out,
// the prober cancels the exec and client-go's copy and heartbeat goroutines each report
// the closed WebSocket; at Ctrl-C the node ends the check still running. Expected, every
// few seconds, and alarming in red; everything else passes through.
type quietHandler struct{ slog.Handler }

// expectedErrors are (message, substring of its err) pairs of those reports.
var expectedErrors = []struct{ msg, err string }{
	{"Copying stdout failed", "use of closed network connection"},
	{"Copying stderr failed", "use of closed network connection"},
	{"Websocket Ping failed", "use of closed network connection"},
	{"Unhandled Error", "node stopped"},
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && expected(r) {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r = slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}

func expected(r slog.Record) bool {
	var errText string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			errText = a.Value.String()
			return false
		}
		return true
	})
	for _, e := range expectedErrors {
		if r.Message == e.msg && strings.Contains(errText, e.err) {
			return true
		}
	}
	return false
}
