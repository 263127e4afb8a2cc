package outbox

import (
	"io"
	"strings"
	"sync"

	"github.com/customerhub/hubid/internal/safetext"
)

// Truncate shortens s to at most n bytes of valid UTF-8, marking a cut
// with "…"; handlers use it to keep error text stored and logged small.
func Truncate(s string, n int) string {
	v := strings.ToValidUTF8(s, "?")
	if c := safetext.Cut(v, n); len(c) < len(v) {
		return c + "…"
	}
	return v
}

// lockedReader serializes reads of a reader shared by parallel deliveries.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
