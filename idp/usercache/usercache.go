// Package usercache keeps user records in memory for the token endpoints
// (userinfo, introspection, refresh and the ID token's claims), so that a
// signed-in person's services make no database round trip on their hot
// paths.
//
// Staleness is bounded three ways:
//
//   - every user write announces itself once committed (idp/announce
//     wraps the durable store; cmd and idp wrap the only handle a process
//     has), and every replica evicts the record when the announcement
//     arrives;
//   - the cache is used only while announcements are known to arrive
//     (Bus.InvalidationsFresh: a healthy Redis subscription), and a
//     replica that resubscribes is told to forget everything, since it
//     may have missed announcements;
//   - an entry lives TTL at most, which bounds what a writer that does not
//     announce (SQL by hand, a process without Redis) can leave stale.
//
// A load that races an announcement is not cached (a generation count).
// Sign-in and the account pages read the store directly, never this cache.
package usercache

import (
	"context"
	"time"

	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/store"
)

// Kind is the announcement kind of user records.
const Kind = announce.User

// TTL is how long an entry lives at most.
const TTL = 10 * time.Second

// maxEntries bounds the cache (see announce.Cache).
const maxEntries = 50_000

// Bus carries announcements between replicas; the ephemeral stores
// implement it (store/redis through pub/sub, store/memory in process).
type Bus interface {
	Invalidate(ctx context.Context, kind, id string) error
	OnInvalidate(fn func(kind, id string))
	InvalidationsFresh() bool
}

// Loader reads a user from the durable store.
type Loader func(ctx context.Context, id string) (store.User, error)

// Cache is the in-memory copy (an announce.Cache; store.User holds no
// slices or maps, so a copy of the value is a copy of the record).
type Cache struct {
	load Loader
	c    *announce.Cache[store.User]
}

// New returns a cache that loads with load and evicts on bus's
// announcements of users.
func New(bus announce.Listener, load Loader, ttl time.Duration, now func() time.Time) *Cache {
	return &Cache{load: load, c: announce.NewCache[store.User](bus, ttl, now, maxEntries, nil, Kind)}
}

// Get returns user id, from memory when it can be trusted.
func (c *Cache) Get(ctx context.Context, id string) (store.User, error) {
	return c.c.Get(id, "", func() (store.User, error) { return c.load(ctx, id) })
}
