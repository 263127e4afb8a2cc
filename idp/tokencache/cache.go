// Package tokencache remembers access tokens this process has verified,
// so that a token presented again — a resource server calling userinfo or
// introspection with the same token until it expires — costs no signature
// verification and no JOSE parsing.
//
// Only what verification established is kept, never whether the token is
// still good: the caller checks revocation (the in-memory mirror, see
// store/redis) and expiry on every request. What the cache itself
// guarantees:
//
//   - keys are the SHA-256 of the token, so the tokens themselves are not
//     kept in memory, and two tokens never share an entry;
//   - an entry is returned only before its expiry (the token's, by the
//     injected clock) and only while the signing keys are those it was
//     verified under (Config.Version, keys.Manager.Version): a rotation,
//     or a key removed at once because it leaked, makes every entry a miss;
//   - it holds at most MaxEntries entries and about MaxBytes bytes (the
//     sizes the caller declares plus a fixed overhead per entry); past
//     either, expired entries go first, then entries chosen at random
//     (Go's map order), counted in hubid_token_cache_evictions_total.
package tokencache

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultMaxEntries = 16_384
	DefaultMaxBytes   = 8 << 20
)

// Overhead is what an entry costs besides the size its caller declares:
// the key, the map slot, the entry and its bookkeeping (an estimate).
const Overhead = 128

// Key is the SHA-256 of a token.
type Key [sha256.Size]byte

// KeyOf returns the key of token. It hashes through a pooled digest and
// buffer: a token is about a kilobyte, which sha256.Sum256([]byte(token))
// would copy to the heap at every request.
func KeyOf(token string) Key {
	d := digests.Get().(*digest)
	d.h.Reset()
	for len(token) > 0 {
		n := copy(d.buf[:], token)
		d.h.Write(d.buf[:n])
		token = token[n:]
	}
	k := Key(d.h.Sum(d.sum[:0]))
	digests.Put(d)
	return k
}

type digest struct {
	h   hash.Hash
	buf [512]byte
	sum [sha256.Size]byte
}

var digests = sync.Pool{New: func() any { return &digest{h: sha256.New()} }}

// Config configures a Cache. Zero values get defaults.
type Config struct {
	MaxEntries int              // DefaultMaxEntries
	MaxBytes   int              // DefaultMaxBytes
	Now        func() time.Time // time.Now
	// Version is the version of what verification depends on (the
	// signing keys); entries put under another version are misses. nil:
	// always 0.
	Version func() uint64
	// Registerer receives the cache's metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// Cache maps token keys to what verifying the token established. It is
// safe for concurrent use.
type Cache[V any] struct {
	cfg Config

	mu      sync.RWMutex
	m       map[Key]entry[V]
	bytes   int
	version uint64 // the version every entry in m was put under

	hits, misses, evictions prometheus.Counter
}

type entry[V any] struct {
	v       V
	expires time.Time
	size    int
}

// New returns an empty cache and registers its metrics.
func New[V any](cfg Config) (*Cache[V], error) {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Version == nil {
		cfg.Version = func() uint64 { return 0 }
	}
	c := &Cache[V]{cfg: cfg, m: map[Key]entry[V]{}, version: cfg.Version(),
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubid_token_cache_hits_total",
			Help: "Access tokens found verified in this replica's token cache (no signature verification).",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubid_token_cache_misses_total",
			Help: "Access tokens not in this replica's token cache (new, expired, or verified under signing keys that changed since).",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubid_token_cache_evictions_total",
			Help: "Unexpired entries dropped from the token cache to stay within its bounds (entries or bytes).",
		}),
	}
	if r := cfg.Registerer; r != nil {
		for _, col := range []prometheus.Collector{c.hits, c.misses, c.evictions,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "hubid_token_cache_entries",
				Help: "Entries in the token cache.",
			}, func() float64 { return float64(c.Len()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "hubid_token_cache_bytes",
				Help: "Estimated memory held by the token cache's entries.",
			}, func() float64 { return float64(c.Bytes()) }),
		} {
			if err := r.Register(col); err != nil {
				return nil, fmt.Errorf("tokencache: register metrics: %w", err)
			}
		}
	}
	return c, nil
}

// Version returns the current version of the signing keys. Read it before
// verifying a token, and give it to Put.
func (c *Cache[V]) Version() uint64 { return c.cfg.Version() }

// Get returns the value put for key, if it has not expired and the
// version has not moved since.
func (c *Cache[V]) Get(key Key) (V, bool) {
	ver := c.cfg.Version()
	c.mu.RLock()
	e, ok := c.m[key]
	current := c.version == ver
	c.mu.RUnlock()
	if ok && current && c.cfg.Now().Before(e.expires) {
		c.hits.Inc()
		return e.v, true
	}
	c.misses.Inc()
	if !current || ok {
		c.drop(key, ver)
	}
	var zero V
	return zero, false
}

// drop forgets everything when the version moved, else the (expired)
// entry of key.
func (c *Cache[V]) drop(key Key, ver uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != ver {
		c.clearLocked(ver)
		return
	}
	if e, ok := c.m[key]; ok && !c.cfg.Now().Before(e.expires) {
		delete(c.m, key)
		c.bytes -= e.size
	}
}

func (c *Cache[V]) clearLocked(ver uint64) {
	clear(c.m)
	c.bytes, c.version = 0, ver
}

// Put remembers v for key until expires; ver is the Version read before
// the token was verified (when the keys changed meanwhile, v is not
// kept), size what v holds in bytes beyond Overhead. Putting an existing
// key replaces its value.
func (c *Cache[V]) Put(key Key, ver uint64, v V, expires time.Time, size int) {
	now := c.cfg.Now()
	size += Overhead
	if !now.Before(expires) || size > c.cfg.MaxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.cfg.Version(); cur != ver {
		return
	} else if c.version != cur {
		c.clearLocked(cur)
	}
	if old, ok := c.m[key]; ok {
		c.bytes -= old.size
		delete(c.m, key)
	}
	c.makeRoom(now, size)
	c.m[key] = entry[V]{v: v, expires: expires, size: size}
	c.bytes += size
}

// makeRoom removes entries until one of size fits: the expired ones among
// the first entries Go's map order visits, then random ones.
func (c *Cache[V]) makeRoom(now time.Time, size int) {
	full := func() bool { return len(c.m) >= c.cfg.MaxEntries || c.bytes+size > c.cfg.MaxBytes }
	if !full() {
		return
	}
	const scan = 64
	n := 0
	for k, e := range c.m {
		if !now.Before(e.expires) {
			delete(c.m, k)
			c.bytes -= e.size
		}
		if n++; n == scan {
			break
		}
	}
	for k, e := range c.m {
		if !full() {
			return
		}
		delete(c.m, k)
		c.bytes -= e.size
		c.evictions.Inc()
	}
}

// Len returns the number of entries.
func (c *Cache[V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// Bytes returns the estimated bytes held (declared sizes plus Overhead
// per entry).
func (c *Cache[V]) Bytes() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}
