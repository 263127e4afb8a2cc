package redis

import (
	"context"
	"time"
)

// Invalidation announcements ride on the revocation subscription (see
// revocations.go): a second channel, "kind id" messages. A Store that
// (re)subscribes announces ("", "") to its callbacks — "forget
// everything" — because messages sent while it was not listening are
// lost; InvalidationsFresh is true only while the subscription is known
// to be healthy, exactly when the revocation mirror is usable.

func (s *Store) invalidationsChannel() string { return s.prefix + "invalidate" }

// Invalidate announces that the record kind/id changed: to this Store's
// callbacks at once, and to every Store on the same prefix through Redis.
func (s *Store) Invalidate(ctx context.Context, kind, id string) error {
	s.inval.Call(kind, id)
	return s.fail("invalidate", s.c.Publish(ctx, s.invalidationsChannel(), kind+" "+id).Err())
}

// OnInvalidate registers fn for announcements; fn runs on the
// subscription's goroutine and must not block.
func (s *Store) OnInvalidate(fn func(kind, id string)) { s.inval.Add(fn) }

// InvalidationsFresh reports whether announcements from other replicas
// are arriving (the subscription is healthy and was heard from lately).
func (s *Store) InvalidationsFresh() bool { return s.mirror.usable(time.Now()) }
