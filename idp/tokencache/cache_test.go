package tokencache

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	c   *Cache[string]
	clk *clock
	ver atomic.Uint64
	reg *prometheus.Registry
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{clk: &clock{t: time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)}, reg: prometheus.NewRegistry()}
	f.ver.Store(1)
	cfg.Now, cfg.Version, cfg.Registerer = f.clk.now, f.ver.Load, f.reg
	var err error
	if f.c, err = New[string](cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) put(token, v string, ttl time.Duration) {
	f.c.Put(KeyOf(token), f.c.Version(), v, f.clk.now().Add(ttl), len(v))
}

func (f *fixture) get(token string) string {
	v, _ := f.c.Get(KeyOf(token))
	return v
}

func counts(t *testing.T, f *fixture) (hits, misses, evictions float64) {
	t.Helper()
	return testutil.ToFloat64(f.c.hits), testutil.ToFloat64(f.c.misses), testutil.ToFloat64(f.c.evictions)
}

func TestHitUntilTheTokenExpires(t *testing.T) {
	f := newFixture(t, Config{})
	if got := f.get("t1"); got != "" {
		t.Fatalf("empty cache returned %q", got)
	}
	f.put("t1", "one", time.Minute)
	if got := f.get("t1"); got != "one" {
		t.Fatalf("got %q, want one", got)
	}
	if got := f.get("t2"); got != "" {
		t.Fatalf("another token returned %q", got)
	}
	f.clk.add(time.Minute - time.Nanosecond)
	if got := f.get("t1"); got != "one" {
		t.Fatalf("before expiry: got %q", got)
	}
	f.clk.add(time.Nanosecond)
	if got := f.get("t1"); got != "" {
		t.Fatalf("at expiry: got %q, want a miss", got)
	}
	if f.c.Len() != 0 || f.c.Bytes() != 0 {
		t.Fatalf("expired entry kept: %d entries, %d bytes", f.c.Len(), f.c.Bytes())
	}
	if h, m, _ := counts(t, f); h != 2 || m != 3 {
		t.Fatalf("hits %v misses %v, want 2 and 3", h, m)
	}
	f.put("t3", "gone", 0) // already expired: not kept
	if f.c.Len() != 0 {
		t.Fatal("an expired value was kept")
	}
}

func TestKeyChangeInvalidatesEveryEntry(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("t1", "one", time.Hour)
	f.put("t2", "two", time.Hour)
	f.ver.Add(1) // the signing keys changed
	if got := f.get("t1"); got != "" {
		t.Fatalf("after a key change: got %q, want a miss", got)
	}
	if f.c.Len() != 0 {
		t.Fatalf("%d entries left after a key change", f.c.Len())
	}
	f.put("t1", "one again", time.Hour)
	if got := f.get("t1"); got != "one again" {
		t.Fatalf("re-verified value: got %q", got)
	}
	// Verified under the old keys, put after they changed: dropped.
	old := f.c.Version()
	f.ver.Add(1)
	f.c.Put(KeyOf("t4"), old, "stale", f.clk.now().Add(time.Hour), 5)
	if got := f.get("t4"); got != "" {
		t.Fatalf("value verified under old keys was kept: %q", got)
	}
}

func TestBoundedByEntries(t *testing.T) {
	f := newFixture(t, Config{MaxEntries: 10})
	for i := range 25 {
		f.put(fmt.Sprint("t", i), "v", time.Hour)
		if f.c.Len() > 10 {
			t.Fatalf("%d entries after %d puts, bound 10", f.c.Len(), i+1)
		}
	}
	if got := f.get("t24"); got != "v" {
		t.Fatal("the newest entry was evicted")
	}
	if _, _, e := counts(t, f); e != 15 {
		t.Fatalf("evictions %v, want 15", e)
	}
}

func TestBoundedByBytes(t *testing.T) {
	big := strings.Repeat("x", 1000)
	limit := 5 * (Overhead + len(big))
	f := newFixture(t, Config{MaxBytes: limit})
	for i := range 12 {
		f.put(fmt.Sprint("t", i), big, time.Hour)
		if f.c.Bytes() > limit {
			t.Fatalf("%d bytes after %d puts, bound %d", f.c.Bytes(), i+1, limit)
		}
	}
	if f.c.Len() != 5 {
		t.Fatalf("%d entries, want 5", f.c.Len())
	}
	f.put("huge", strings.Repeat("y", limit), time.Hour) // larger than the whole cache
	if f.get("huge") != "" {
		t.Fatal("an entry larger than the cache was kept")
	}
}

func TestExpiredEntriesMakeRoomFirst(t *testing.T) {
	f := newFixture(t, Config{MaxEntries: 4})
	f.put("short1", "v", time.Second)
	f.put("short2", "v", time.Second)
	f.put("long1", "v", time.Hour)
	f.put("long2", "v", time.Hour)
	f.clk.add(2 * time.Second)
	f.put("new1", "v", time.Hour)
	f.put("new2", "v", time.Hour)
	for _, tok := range []string{"long1", "long2", "new1", "new2"} {
		if f.get(tok) != "v" {
			t.Fatalf("%s was dropped while expired entries could go", tok)
		}
	}
	if _, _, e := counts(t, f); e != 0 {
		t.Fatalf("evictions %v: dropping expired entries is no eviction", e)
	}
}

func TestReplaceKeepsTheByteCount(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("t1", "one", time.Hour)
	f.put("t1", "one, with more", time.Hour)
	if want := Overhead + len("one, with more"); f.c.Len() != 1 || f.c.Bytes() != want {
		t.Fatalf("%d entries, %d bytes; want 1 and %d", f.c.Len(), f.c.Bytes(), want)
	}
}

func TestMetricsRegistered(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("t1", "one", time.Hour)
	f.get("t1")
	f.get("t2")
	want := `
# HELP hubid_token_cache_hits_total Access tokens found verified in this replica's token cache (no signature verification).
# TYPE hubid_token_cache_hits_total counter
hubid_token_cache_hits_total 1
# HELP hubid_token_cache_misses_total Access tokens not in this replica's token cache (new, expired, or verified under signing keys that changed since).
# TYPE hubid_token_cache_misses_total counter
hubid_token_cache_misses_total 1
# HELP hubid_token_cache_entries Entries in the token cache.
# TYPE hubid_token_cache_entries gauge
hubid_token_cache_entries 1
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want),
		"hubid_token_cache_hits_total", "hubid_token_cache_misses_total", "hubid_token_cache_entries"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(f.reg, "hubid_token_cache_evictions_total", "hubid_token_cache_bytes"); err != nil || n != 2 {
		t.Fatalf("evictions and bytes series: %d, %v", n, err)
	}
	// A second cache on the same registry is refused, not a panic.
	if _, err := New[string](Config{Registerer: f.reg}); err == nil {
		t.Fatal("registering twice succeeded")
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t, Config{MaxEntries: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				tok := fmt.Sprint("t", (g*31+i)%120)
				if v := f.get(tok); v != "" && v != tok {
					t.Errorf("%s returned %q", tok, v)
					return
				}
				f.put(tok, tok, time.Hour)
				if i%100 == 0 {
					f.ver.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if f.c.Len() > 50 {
		t.Fatalf("%d entries, bound 50", f.c.Len())
	}
}

func TestKeyIsTheSHA256OfTheToken(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 1500} {
		tok := strings.Repeat("a", n)
		if got, want := KeyOf(tok), Key(sha256.Sum256([]byte(tok))); got != want {
			t.Fatalf("%d bytes: %x, want %x", n, got, want)
		}
	}
	tok := strings.Repeat("x", 1200)
	if a := testing.AllocsPerRun(100, func() { KeyOf(tok) }); a != 0 {
		t.Fatalf("%v allocations per key", a)
	}
}
