// Package announcetest is an in-process announcement bus for the tests of
// the caches that listen to it (idp/usercache, idp/claimcache).
package announcetest

import (
	"sync/atomic"

	"github.com/customerhub/hubid/store"
)

// Bus delivers announcements to its listeners at once, in the caller's
// goroutine; Stale makes InvalidationsFresh false, as a lost Redis
// subscription does.
type Bus struct {
	listeners store.Callbacks
	Stale     atomic.Bool
}

// Announce delivers kind/id to every listener.
func (b *Bus) Announce(kind, id string) { b.listeners.Call(kind, id) }

// OnInvalidate adds a listener.
func (b *Bus) OnInvalidate(fn func(kind, id string)) { b.listeners.Add(fn) }

// InvalidationsFresh reports whether announcements arrive (not Stale).
func (b *Bus) InvalidationsFresh() bool { return !b.Stale.Load() }
