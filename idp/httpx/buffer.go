package httpx

import (
	"bytes"
	"net/http"
)

// Buffer is a ResponseWriter that holds a small response, so a handler
// wrapping another can look at it (status, headers) and send it or
// replace it.
type Buffer struct {
	header http.Header
	Status int // 0 until written
	Body   bytes.Buffer
}

// NewBuffer returns an empty buffer.
func NewBuffer() *Buffer { return &Buffer{header: http.Header{}} }

// Header implements http.ResponseWriter.
func (b *Buffer) Header() http.Header { return b.header }

// WriteHeader implements http.ResponseWriter; the first status counts.
func (b *Buffer) WriteHeader(code int) {
	if b.Status == 0 {
		b.Status = code
	}
}

// Write implements http.ResponseWriter.
func (b *Buffer) Write(p []byte) (int, error) {
	if b.Status == 0 {
		b.Status = http.StatusOK
	}
	return b.Body.Write(p)
}

// Send writes the held response to w.
func (b *Buffer) Send(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.Status == 0 {
		b.Status = http.StatusOK
	}
	w.WriteHeader(b.Status)
	_, _ = w.Write(b.Body.Bytes())
}
