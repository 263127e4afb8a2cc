// Package claimcache keeps in memory the two reads behind the claims the
// token endpoints compute from the directory: a person's memberships in
// organizations entitled to a service (`orgs`, `roles`, `org` and the
// entitlement check) and their legacy login ID links (`legacy_ids`).
// Refresh, userinfo and introspection then make no database round trip
// for them on their hot paths.
//
// Staleness is bounded as idp/usercache bounds it:
//
//   - every write that changes the answer announces itself once
//     committed (idp/announce: a membership or a legacy link for its
//     person; an organization, an entitlement or a service for everyone;
//     a deleted user for that person), and every replica evicts on
//     arrival;
//   - the cache is used only while announcements are known to arrive
//     (Bus.InvalidationsFresh), and forgets everything on resubscription;
//   - an entry lives TTL at most, for writers that do not announce.
//
// A load that races an announcement is not kept. Sign-in (and the
// organization choice) reads the store directly, never this cache.
package claimcache

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// TTL is how long an entry lives at most.
const TTL = 10 * time.Second

// maxEntries bounds the cache; past it, expired entries go, and if that is
// not enough, all of them.
const maxEntries = 50_000

// Bus delivers announcements (the ephemeral stores implement it).
type Bus interface {
	OnInvalidate(fn func(kind, id string))
	InvalidationsFresh() bool
}

// Loader is what the cache reads through (store.Durable has it).
type Loader interface {
	ListEntitledMemberships(ctx context.Context, userID, serviceID string) ([]store.EntitledMembership, error)
	ListLegacyLinksByUser(ctx context.Context, userID string) ([]store.LegacyLink, error)
}

// Cache is the in-memory copy, by person, then by read: "s:" and the
// service ID for the memberships, legacyKey for the links.
type Cache struct {
	bus  Bus
	load Loader
	ttl  time.Duration
	now  func() time.Time

	mu  sync.Mutex
	gen uint64 // bumped by every eviction
	m   map[string]map[string]entry
	n   int // entries in m
}

// legacyKey is the key of a person's legacy links among their entries.
const legacyKey = "legacy"

type entry struct {
	v     any // []store.EntitledMembership or []store.LegacyLink
	until time.Time
}

// New returns a cache that reads through load and evicts on bus's
// announcements.
func New(bus Bus, load Loader, ttl time.Duration, now func() time.Time) *Cache {
	c := &Cache{bus: bus, load: load, ttl: ttl, now: now, m: map[string]map[string]entry{}}
	bus.OnInvalidate(c.evict)
	return c
}

// evict handles an announcement; kind "" means forget everything.
func (c *Cache) evict(kind, id string) {
	everyone := kind == "" || kind == announce.Claims && id == announce.Everyone
	if !everyone && kind != announce.Claims && kind != announce.User {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if everyone {
		clear(c.m)
		c.n = 0
		return
	}
	c.n -= len(c.m[id])
	delete(c.m, id)
}

// ListEntitledMemberships returns userID's memberships in organizations
// entitled to serviceID, from memory when it can be trusted.
func (c *Cache) ListEntitledMemberships(ctx context.Context, userID, serviceID string) ([]store.EntitledMembership, error) {
	return get(c, userID, "s:"+serviceID, func() ([]store.EntitledMembership, error) {
		return c.load.ListEntitledMemberships(ctx, userID, serviceID)
	})
}

// ListLegacyLinksByUser returns userID's legacy login ID links, from
// memory when it can be trusted.
func (c *Cache) ListLegacyLinksByUser(ctx context.Context, userID string) ([]store.LegacyLink, error) {
	return get(c, userID, legacyKey, func() ([]store.LegacyLink, error) {
		return c.load.ListLegacyLinksByUser(ctx, userID)
	})
}

// get returns a copy of userID's entry key, loading it when it is missing
// or expired, or when the cache cannot be trusted.
func get[T any](c *Cache, userID, key string, load func() ([]T, error)) ([]T, error) {
	if !c.bus.InvalidationsFresh() {
		return load()
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[userID][key]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return slices.Clone(e.v.([]T)), nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || !c.bus.InvalidationsFresh() {
		return v, nil // an announcement came while loading: do not keep v
	}
	if c.n >= maxEntries {
		c.dropExpired(now)
	}
	byKey := c.m[userID]
	if byKey == nil {
		byKey = map[string]entry{}
		c.m[userID] = byKey
	}
	if _, had := byKey[key]; !had {
		c.n++
	}
	byKey[key] = entry{v: slices.Clone(v), until: now.Add(c.ttl)}
	return v, nil
}

// dropExpired removes expired entries, and everything if that is not
// enough; c.mu is held.
func (c *Cache) dropExpired(now time.Time) {
	for u, byKey := range c.m {
		for k, e := range byKey {
			if !now.Before(e.until) {
				delete(byKey, k)
				c.n--
			}
		}
		if len(byKey) == 0 {
			delete(c.m, u)
		}
	}
	if c.n >= maxEntries {
		clear(c.m)
		c.n = 0
	}
}

// Reader is st with the cached reads answered by the cache.
type Reader struct {
	orgs.ClaimStore
	*Cache
}

// Over returns st with the cached reads answered by c; its other reads
// go to st.
func (c *Cache) Over(st orgs.ClaimStore) Reader { return Reader{st, c} }
