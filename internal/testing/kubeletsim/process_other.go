//go:build !unix

package kubeletsim

import (
	"context"
	"errors"
	"io"
)

// LocalProcess needs Unix process groups to kill what a command leaves behind; elsewhere
// every exec fails.
func LocalProcess(dir string, env []string) Handler {
	return func(context.Context, ExecRequest, io.Writer, io.Writer) (int, error) {
		return 0, errors.New("kubeletsim: LocalProcess is only supported on Unix")
	}
}
