package outbox

import (
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Truncate shortens s to at most n bytes of valid UTF-8, marking a cut
// with "…"; handlers use it to keep error text stored and logged small.
func Truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
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
