package usercache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/idp/announce/announcetest"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	redisstore "github.com/customerhub/hubid/store/redis"
	"github.com/customerhub/hubid/store/storetest"
)

// countingLoader serves users from a map and counts loads.
type countingLoader struct {
	n     atomic.Int64
	mu    sync.Mutex
	users map[string]store.User
	// during, when set, runs in the middle of a load (to race it).
	during func()
}

func (l *countingLoader) load(_ context.Context, id string) (store.User, error) {
	l.n.Add(1)
	l.mu.Lock()
	u, ok := l.users[id]
	during := l.during
	l.mu.Unlock()
	if during != nil {
		during()
	}
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func (l *countingLoader) set(u store.User) { l.mu.Lock(); l.users[u.ID] = u; l.mu.Unlock() }

func newTestCache() (*Cache, *announcetest.Bus, *countingLoader, *storetest.Clock) {
	bus := &announcetest.Bus{}
	l := &countingLoader{users: map[string]store.User{"u1": {ID: "u1", Name: "Aiko"}}}
	clk := storetest.NewClock(time.Unix(1_800_000_000, 0))
	return New(bus, l.load, TTL, clk.Now), bus, l, clk
}

func get(t *testing.T, c *Cache, id string) store.User {
	t.Helper()
	u, err := c.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return u
}

func TestHitsWithinTTLAndReloadsAfter(t *testing.T) {
	c, _, l, clk := newTestCache()
	get(t, c, "u1")
	get(t, c, "u1")
	if n := l.n.Load(); n != 1 {
		t.Fatalf("%d loads for two gets within the TTL, want 1", n)
	}
	l.set(store.User{ID: "u1", Name: "Aiko Sato"})
	clk.Advance(TTL)
	if u := get(t, c, "u1"); u.Name != "Aiko Sato" || l.n.Load() != 2 {
		t.Fatalf("after the TTL: %q, %d loads; want the new record, 2 loads", u.Name, l.n.Load())
	}
	if _, err := c.Get(context.Background(), "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := c.Get(context.Background(), "nobody"); !errors.Is(err, store.ErrNotFound) || l.n.Load() != 4 {
		t.Fatalf("a miss is not cached: %v, %d loads", err, l.n.Load())
	}
}

func TestAnnouncementsEvict(t *testing.T) {
	c, bus, l, _ := newTestCache()
	get(t, c, "u1")
	l.set(store.User{ID: "u1", Disabled: true})
	bus.Announce("client", "u1") // another kind: kept
	if get(t, c, "u1").Disabled {
		t.Fatal("an announcement of another kind evicted the user")
	}
	bus.Announce(Kind, "u1")
	if !get(t, c, "u1").Disabled {
		t.Fatal("served the record from before the announcement")
	}
	l.set(store.User{ID: "u1", Name: "after flush"})
	bus.Announce("", "") // forget everything
	if get(t, c, "u1").Name != "after flush" {
		t.Fatal("kept a record after 'forget everything'")
	}
}

func TestNotUsedWhileAnnouncementsMayBeLost(t *testing.T) {
	c, bus, l, _ := newTestCache()
	get(t, c, "u1")
	bus.Stale.Store(true)
	get(t, c, "u1")
	get(t, c, "u1")
	if n := l.n.Load(); n != 3 {
		t.Fatalf("%d loads, want every get to load while not fresh", n)
	}
	// Nothing loaded while stale is kept either.
	l.set(store.User{ID: "u1", Name: "changed while stale"})
	get(t, c, "u1")
	bus.Stale.Store(false)
	bus.Announce("", "") // what a resubscription announces
	if get(t, c, "u1").Name != "changed while stale" {
		t.Fatal("served a record from before the subscription was lost")
	}
}

// TestLoadRacingAnAnnouncementIsNotKept: the record read just before a
// write commits must not outlive that write's announcement.
func TestLoadRacingAnAnnouncementIsNotKept(t *testing.T) {
	c, bus, l, _ := newTestCache()
	l.during = func() {
		l.during = nil // once; the same goroutine, so no lock
		l.users["u1"] = store.User{ID: "u1", Disabled: true}
		bus.Announce(Kind, "u1")
	}
	if get(t, c, "u1").Disabled {
		t.Fatal("the racing load saw the write") // it read before the write
	}
	if !get(t, c, "u1").Disabled {
		t.Fatal("kept the record a racing write had replaced")
	}
}

// TestAcrossReplicas: a user cached by one replica is evicted when another
// replica's write is announced through Redis; and the embedded memory
// store, one process, evicts at once.
func TestAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	durable := storetest.OpenSQLite(t, time.Now)
	if err := durable.CreateUser(ctx, store.User{ID: "u1", Email: "u1@example.com", CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	t.Run("redis", func(t *testing.T) {
		addr, prefix := testenv.Redis(t)
		open := func() *redisstore.Store {
			s := redisstore.New(goredis.NewClient(&goredis.Options{Addr: addr}), redisstore.Options{Prefix: prefix})
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
		a, b := open(), open()
		cache := New(b, durable.GetUser, time.Hour, time.Now)
		writer := announce.Notifying(durable, a, nil)
		waitFresh(t, a)
		waitFresh(t, b)
		checkEvicted(t, cache, writer)
	})
	t.Run("memory", func(t *testing.T) {
		m := memory.New(memory.Options{})
		t.Cleanup(func() { _ = m.Close() })
		checkEvicted(t, New(m, durable.GetUser, time.Hour, time.Now), announce.Notifying(durable, m, nil))
	})
}

func waitFresh(t *testing.T, b Bus) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !b.InvalidationsFresh() {
		if time.Now().After(deadline) {
			t.Fatal("bus never fresh")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkEvicted caches u1, disables it through writer and waits (bounded)
// until the cache says so.
func checkEvicted(t *testing.T, cache *Cache, writer store.Durable) {
	t.Helper()
	ctx := context.Background()
	set := func(disabled bool) {
		if _, err := writer.UpdateUser(ctx, "u1", func(u *store.User) error { u.Disabled = disabled; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	set(false)
	if get(t, cache, "u1").Disabled {
		t.Fatal("enabled user read as disabled")
	}
	set(true)
	deadline := time.Now().Add(5 * time.Second)
	for !get(t, cache, "u1").Disabled {
		if time.Now().After(deadline) {
			t.Fatal("the cache kept serving the user after it was disabled elsewhere")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
