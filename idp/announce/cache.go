package announce

import (
	"slices"
	"sync"
	"time"
)

// Listener delivers announcements to a cache (the ephemeral stores
// implement it: store/redis through pub/sub, store/memory in process).
type Listener interface {
	OnInvalidate(fn func(kind, id string))
	// InvalidationsFresh reports whether announcements are known to
	// arrive; a cache is used only then.
	InvalidationsFresh() bool
}

// Cache is the read side: values kept in memory by owner (the ID that
// announcements name, a user's) and key, evicted when an announcement of
// one of its kinds names the owner, or everyone. Staleness is bounded
// three ways: the announcements; use only while they are known to arrive
// (and, on resubscription, the "forget everything" announcement, kind
// ""); and a TTL per entry, for writers that do not announce. A load that
// races an announcement is not kept (a generation count). Past its bound
// the cache drops expired entries, and everything if that is not enough.
type Cache[V any] struct {
	bus   Listener
	kinds []string
	ttl   time.Duration
	now   func() time.Time
	max   int
	clone func(V) V

	mu  sync.Mutex
	gen uint64 // bumped by every eviction
	m   map[string]map[string]entry[V]
	n   int // entries in m
}

type entry[V any] struct {
	v     V
	until time.Time
}

// NewCache returns a cache of at most max entries, each kept ttl at most,
// evicted by announcements of kinds. clone copies a value (nil: values
// are copied by assignment), so that no caller shares the cached one.
func NewCache[V any](bus Listener, ttl time.Duration, now func() time.Time, max int, clone func(V) V, kinds ...string) *Cache[V] {
	if clone == nil {
		clone = func(v V) V { return v }
	}
	c := &Cache[V]{bus: bus, kinds: kinds, ttl: ttl, now: now, max: max, clone: clone, m: map[string]map[string]entry[V]{}}
	bus.OnInvalidate(c.evict)
	return c
}

// CloneSlice is NewCache's clone for slice values.
func CloneSlice[T any](v []T) []T { return slices.Clone(v) }

// evict handles an announcement.
func (c *Cache[V]) evict(kind, id string) {
	ours := slices.Contains(c.kinds, kind)
	if kind != "" && !ours {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if kind == "" || id == Everyone {
		clear(c.m)
		c.n = 0
		return
	}
	c.n -= len(c.m[id])
	delete(c.m, id)
}

// Get returns the value of owner's key, from memory when it can be
// trusted, else from load (kept unless an announcement came meanwhile).
// An error from load is returned and nothing is kept.
func (c *Cache[V]) Get(owner, key string, load func() (V, error)) (V, error) {
	if !c.bus.InvalidationsFresh() {
		return load()
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[owner][key]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return c.clone(e.v), nil
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
	if c.n >= c.max {
		c.dropExpired(now)
	}
	byKey := c.m[owner]
	if byKey == nil {
		byKey = map[string]entry[V]{}
		c.m[owner] = byKey
	}
	if _, had := byKey[key]; !had {
		c.n++
	}
	byKey[key] = entry[V]{v: c.clone(v), until: now.Add(c.ttl)}
	return v, nil
}

// Len returns the number of entries and of owners.
func (c *Cache[V]) Len() (entries, owners int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, len(c.m)
}

// dropExpired removes expired entries, and everything if that is not
// enough; c.mu is held.
func (c *Cache[V]) dropExpired(now time.Time) {
	for owner, byKey := range c.m {
		for k, e := range byKey {
			if !now.Before(e.until) {
				delete(byKey, k)
				c.n--
			}
		}
		if len(byKey) == 0 {
			delete(c.m, owner)
		}
	}
	if c.n >= c.max {
		clear(c.m)
		c.n = 0
	}
}
