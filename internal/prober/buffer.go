package prober

import (
	"bytes"
	"sync"
)

const (
	// maxOutputLen is Docker's cap on the output kept from one probe.
	maxOutputLen = 4096
	// truncationMark is appended when output was dropped.
	truncationMark = "..."
)

// cappedBuffer keeps the first maxOutputLen bytes written to it and remembers whether
// anything was dropped. stdout and stderr are copied into the same buffer by different
// goroutines (client-go copies each stream on its own), and a stream may still be written
// while the prober reads a timed-out probe's output, so every method locks.
// One buffer lives for one probe only: idle monitors hold none.
type cappedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	truncated bool
}

var _ interface {
	Write([]byte) (int, error)
	String() string
} = (*cappedBuffer)(nil)

// Write keeps what fits and always reports the whole write as done, so a writer is never
// failed (and the exec never aborted) because its output is long.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := min(maxOutputLen-b.buf.Len(), len(p))
	if keep > 0 {
		b.buf.Write(p[:keep])
	}
	if keep < len(p) {
		b.truncated = true
	}
	return len(p), nil
}

// String returns the kept output, with "..." appended when anything was dropped.
func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.truncated {
		return b.buf.String() + truncationMark
	}
	return b.buf.String()
}
