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
	"sync"
	"time"

	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/store"
)

// Kind is the announcement kind of user records.
const Kind = announce.User

// TTL is how long an entry lives at most.
const TTL = 10 * time.Second

// maxEntries bounds the cache; past it, expired entries go, and if that is
// not enough, all of them.
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

// Cache is the in-memory copy. store.User holds no slices or maps, so a
// copy of the value is a copy of the record.
type Cache struct {
	bus  Bus
	load Loader
	ttl  time.Duration
	now  func() time.Time

	mu  sync.Mutex
	gen uint64 // bumped by every eviction
	m   map[string]entry
}

type entry struct {
	u     store.User
	until time.Time
}

// New returns a cache that loads with load and evicts on bus's
// announcements.
func New(bus Bus, load Loader, ttl time.Duration, now func() time.Time) *Cache {
	c := &Cache{bus: bus, load: load, ttl: ttl, now: now, m: map[string]entry{}}
	bus.OnInvalidate(c.evict)
	return c
}

// evict handles an announcement; kind "" means forget everything.
func (c *Cache) evict(kind, id string) {
	if kind != "" && kind != Kind {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if kind == "" {
		clear(c.m)
		return
	}
	delete(c.m, id)
}

// Get returns user id, from memory when it can be trusted.
func (c *Cache) Get(ctx context.Context, id string) (store.User, error) {
	if !c.bus.InvalidationsFresh() {
		return c.load(ctx, id)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.u, nil
	}
	u, err := c.load(ctx, id)
	if err != nil {
		return u, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || !c.bus.InvalidationsFresh() {
		return u, nil // an announcement came while loading: do not keep u
	}
	if len(c.m) >= maxEntries {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxEntries {
			clear(c.m)
		}
	}
	c.m[id] = entry{u: u, until: now.Add(c.ttl)}
	return u, nil
}
