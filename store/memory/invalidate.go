package memory

import (
	"context"
	"sync"
)

// handlers are the OnInvalidate callbacks; the zero value is ready.
type handlers struct {
	mu sync.Mutex
	fn []func(kind, id string)
}

func (h *handlers) add(fn func(kind, id string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fn = append(h.fn, fn)
}

func (h *handlers) call(kind, id string) {
	h.mu.Lock()
	fns := h.fn
	h.mu.Unlock()
	for _, fn := range fns {
		fn(kind, id)
	}
}

// Invalidate tells every OnInvalidate callback that the record kind/id
// changed. With one process there is no one else to tell.
func (s *Store) Invalidate(_ context.Context, kind, id string) error {
	s.inval.call(kind, id)
	return nil
}

// OnInvalidate registers fn for Invalidate's announcements.
func (s *Store) OnInvalidate(fn func(kind, id string)) { s.inval.add(fn) }

// InvalidationsFresh is always true: announcements are synchronous.
func (s *Store) InvalidationsFresh() bool { return true }
