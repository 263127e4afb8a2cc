package memory

import (
	"context"
)

// Invalidate tells every OnInvalidate callback that the record kind/id
// changed. With one process there is no one else to tell.
func (s *Store) Invalidate(_ context.Context, kind, id string) error {
	s.inval.Call(kind, id)
	return nil
}

// OnInvalidate registers fn for Invalidate's announcements.
func (s *Store) OnInvalidate(fn func(kind, id string)) { s.inval.Add(fn) }

// InvalidationsFresh is always true: announcements are synchronous.
func (s *Store) InvalidationsFresh() bool { return true }
