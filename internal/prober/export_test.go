package prober

import (
	"fmt"

	"k8s.io/client-go/rest"
)

// NewAPIServerExecerForProtocol is NewAPIServerExecer speaking only "websocket" or only
// "spdy" ("fallback" is the production behaviour), so the envtest suite covers both paths.
func NewAPIServerExecerForProtocol(cfg *rest.Config, protocol string) (Execer, error) {
	e, err := NewAPIServerExecer(cfg)
	if err != nil {
		return nil, err
	}
	switch protocol {
	case "fallback":
	case "websocket":
		e.(*apiServerExecer).protocols = protocolsWebSocket
	case "spdy":
		e.(*apiServerExecer).protocols = protocolsSPDY
	default:
		return nil, fmt.Errorf("unknown protocol %q", protocol)
	}
	return e, nil
}
