package claimcache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/idp/announce/announcetest"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	redisstore "github.com/customerhub/hubid/store/redis"
	"github.com/customerhub/hubid/store/storetest"
)

// roles serves one membership per person and service, with the role the
// test sets, and counts loads.
type roles struct {
	n      atomic.Int64
	mu     sync.Mutex
	role   map[string]store.Role // by "user/service"
	during func()                // runs in the middle of a load (to race it)
	fail   error
}

func (r *roles) ListEntitledMemberships(_ context.Context, userID, serviceID string) ([]store.EntitledMembership, error) {
	r.n.Add(1)
	r.mu.Lock()
	role, ok := r.role[userID+"/"+serviceID]
	during, fail := r.during, r.fail
	r.mu.Unlock()
	if during != nil {
		during()
	}
	if fail != nil {
		return nil, fail
	}
	if !ok {
		return []store.EntitledMembership{}, nil
	}
	return []store.EntitledMembership{{Organization: store.Organization{ID: "o1", Code: "AA01"}, Role: role}}, nil
}

// ListLegacyLinksByUser answers one link, to login ID "L-" and the
// person's role for s1 (so that a test changes both with set).
func (r *roles) ListLegacyLinksByUser(_ context.Context, userID string) ([]store.LegacyLink, error) {
	r.n.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	return []store.LegacyLink{{UserID: userID, ServiceID: "s1", LoginID: "L-" + string(r.role[userID+"/s1"])}}, nil
}

func (r *roles) set(userID, serviceID string, role store.Role) {
	r.mu.Lock()
	r.role[userID+"/"+serviceID] = role
	r.mu.Unlock()
}

func newTestCache() (*Cache, *announcetest.Bus, *roles, *storetest.Clock) {
	bus := &announcetest.Bus{}
	r := &roles{role: map[string]store.Role{"u1/s1": store.RoleNormal, "u2/s1": store.RoleNormal}}
	clk := storetest.NewClock(time.Unix(1_800_000_000, 0))
	return New(bus, r, TTL, clk.Now), bus, r, clk
}

func role(t *testing.T, c *Cache, userID, serviceID string) store.Role {
	t.Helper()
	ems, err := c.ListEntitledMemberships(context.Background(), userID, serviceID)
	if err != nil {
		t.Fatalf("%s/%s: %v", userID, serviceID, err)
	}
	if len(ems) == 0 {
		return ""
	}
	return ems[0].Role
}

func TestHitsWithinTTLAndReloadsAfter(t *testing.T) {
	c, _, r, clk := newTestCache()
	role(t, c, "u1", "s1")
	role(t, c, "u1", "s1")
	if n := r.n.Load(); n != 1 {
		t.Fatalf("%d loads for two reads within the TTL, want 1", n)
	}
	r.set("u1", "s1", store.RoleVisitor)
	clk.Advance(TTL)
	if got := role(t, c, "u1", "s1"); got != store.RoleVisitor || r.n.Load() != 2 {
		t.Fatalf("after the TTL: %q, %d loads; want visitor, 2 loads", got, r.n.Load())
	}
	// Another service is another entry.
	if got := role(t, c, "u1", "s2"); got != "" || r.n.Load() != 3 {
		t.Fatalf("another service: %q, %d loads", got, r.n.Load())
	}
	// A failure is returned, not kept.
	r.fail = errors.New("db down")
	if _, err := c.ListEntitledMemberships(context.Background(), "u2", "s1"); err == nil {
		t.Fatal("a failed load answered")
	}
	r.fail = nil
	if got := role(t, c, "u2", "s1"); got != store.RoleNormal {
		t.Fatalf("after a failed load: %q", got)
	}
}

// TestLegacyLinks: a person's links are cached beside their memberships
// and go with the same announcements.
func TestLegacyLinks(t *testing.T) {
	c, bus, r, _ := newTestCache()
	login := func() string {
		t.Helper()
		links, err := c.ListLegacyLinksByUser(context.Background(), "u1")
		if err != nil || len(links) != 1 {
			t.Fatalf("links: %v %v", links, err)
		}
		return links[0].LoginID
	}
	login()
	r.set("u1", "s1", store.RoleVisitor)
	if got := login(); got != "L-normal" || r.n.Load() != 1 {
		t.Fatalf("second read: %q after %d loads; want the cached L-normal, 1 load", got, r.n.Load())
	}
	role(t, c, "u1", "s1") // the memberships are another entry
	if n, _ := c.ems.Len(); r.n.Load() != 2 || n != 1 {
		t.Fatalf("%d loads, %d membership entries; want 2 and 1", r.n.Load(), n)
	}
	bus.Announce(announce.Claims, "u1")
	if got := login(); got != "L-visitor" {
		t.Fatalf("after the announcement: %q, want L-visitor", got)
	}
}

// TestCallersCannotChangeTheCache: what a caller gets is its own copy.
func TestCallersCannotChangeTheCache(t *testing.T) {
	c, _, _, _ := newTestCache()
	ems, _ := c.ListEntitledMemberships(context.Background(), "u1", "s1")
	ems[0].Role = store.RoleAdministrator
	ems, _ = c.ListEntitledMemberships(context.Background(), "u1", "s1")
	ems[0].Role = store.RoleAdministrator
	if got := role(t, c, "u1", "s1"); got != store.RoleNormal {
		t.Fatalf("a caller's change reached the cache: %q", got)
	}
}

func TestAnnouncementsEvict(t *testing.T) {
	c, bus, r, _ := newTestCache()
	fill := func() {
		role(t, c, "u1", "s1")
		role(t, c, "u2", "s1")
		r.set("u1", "s1", store.RoleVisitor)
		r.set("u2", "s1", store.RoleVisitor)
	}
	check := func(what string, u1, u2 store.Role) {
		t.Helper()
		if g1, g2 := role(t, c, "u1", "s1"), role(t, c, "u2", "s1"); g1 != u1 || g2 != u2 {
			t.Errorf("after %s: u1 %q, u2 %q; want %q, %q", what, g1, g2, u1, u2)
		}
		r.set("u1", "s1", store.RoleNormal)
		r.set("u2", "s1", store.RoleNormal)
		bus.Announce("", "")
	}
	fill()
	bus.Announce("client", "u1")
	check("an announcement of another kind", store.RoleNormal, store.RoleNormal)
	fill()
	bus.Announce(announce.Claims, "u1")
	check("u1's memberships changed", store.RoleVisitor, store.RoleNormal)
	fill()
	bus.Announce(announce.User, "u2")
	check("u2 was deleted", store.RoleNormal, store.RoleVisitor)
	fill()
	bus.Announce(announce.Claims, announce.Everyone)
	check("an organization changed", store.RoleVisitor, store.RoleVisitor)
	fill()
	bus.Announce("", "")
	check("forget everything", store.RoleVisitor, store.RoleVisitor)
}

func TestNotUsedWhileAnnouncementsMayBeLost(t *testing.T) {
	c, bus, r, _ := newTestCache()
	role(t, c, "u1", "s1")
	bus.Stale.Store(true)
	role(t, c, "u1", "s1")
	role(t, c, "u1", "s1")
	if n := r.n.Load(); n != 3 {
		t.Fatalf("%d loads, want every read to load while not fresh", n)
	}
	r.set("u1", "s1", store.RoleVisitor)
	role(t, c, "u1", "s1")
	bus.Stale.Store(false)
	bus.Announce("", "") // what a resubscription announces
	if role(t, c, "u1", "s1") != store.RoleVisitor {
		t.Fatal("served an answer from before the subscription was lost")
	}
}

// TestLoadRacingAnAnnouncementIsNotKept: the answer read just before a
// write commits must not outlive that write's announcement.
func TestLoadRacingAnAnnouncementIsNotKept(t *testing.T) {
	c, bus, r, _ := newTestCache()
	r.during = func() {
		r.during = nil // once; the same goroutine
		r.role["u1/s1"] = store.RoleVisitor
		bus.Announce(announce.Claims, "u1")
	}
	if role(t, c, "u1", "s1") != store.RoleNormal {
		t.Fatal("the racing load saw the write") // it read before the write
	}
	if role(t, c, "u1", "s1") != store.RoleVisitor {
		t.Fatal("kept the answer a racing write had replaced")
	}
}

func TestBounded(t *testing.T) {
	c, _, _, clk := newTestCache()
	for i := range maxEntries {
		role(t, c, fmt.Sprintf("u%d", i), "s1")
	}
	if n, _ := c.ems.Len(); n != maxEntries {
		t.Fatalf("%d entries counted, want %d", n, maxEntries)
	}
	clk.Advance(TTL) // all expired: the next entry makes room by dropping them
	role(t, c, "one-more", "s1")
	if n, people := c.ems.Len(); n != 1 || people != 1 {
		t.Fatalf("after the bound with everything expired: %d entries, %d people; want 1", n, people)
	}
	for i := range maxEntries + 1 { // none expired: everything goes
		role(t, c, fmt.Sprintf("v%d", i), "s1")
	}
	if n, _ := c.ems.Len(); n > maxEntries {
		t.Fatalf("%d entries, over the bound %d", n, maxEntries)
	}
}

// TestAcrossReplicas: an answer cached by one replica is evicted when
// another replica changes the person's role through the announcing store
// (Redis pub/sub); and in the embedded memory store, one process, at once.
func TestAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	durable := storetest.OpenSQLite(t, time.Now)
	now := time.Now()
	for _, err := range []error{
		durable.CreateUser(ctx, store.User{ID: "u1", Email: "u1@example.com", CreatedAt: now, UpdatedAt: now}),
		durable.CreateOrganization(ctx, store.Organization{ID: "o1", Code: "AA01", Name: "A", CreatedAt: now}),
		durable.CreateService(ctx, store.Service{ID: "s1", Code: "SHIPS", Name: "Ships", CreatedAt: now}),
		durable.PutEntitlement(ctx, store.Entitlement{OrgID: "o1", ServiceID: "s1", CreatedAt: now}),
		durable.PutMembership(ctx, store.Membership{UserID: "u1", OrgID: "o1", Role: store.RoleNormal, CreatedAt: now}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Run("redis", func(t *testing.T) {
		addr, prefix := testenv.Redis(t)
		open := func() *redisstore.Store {
			s := redisstore.New(goredis.NewClient(&goredis.Options{Addr: addr}), redisstore.Options{Prefix: prefix})
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
		a, b := open(), open()
		waitFresh(t, a)
		waitFresh(t, b)
		checkEvicted(t, New(b, durable, time.Hour, time.Now).Over(durable), announce.Notifying(durable, a, nil))
	})
	t.Run("memory", func(t *testing.T) {
		m := memory.New(memory.Options{})
		t.Cleanup(func() { _ = m.Close() })
		checkEvicted(t, New(m, durable, time.Hour, time.Now).Over(durable), announce.Notifying(durable, m, nil))
	})
}

func waitFresh(t *testing.T, b announce.Listener) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !b.InvalidationsFresh() {
		if time.Now().After(deadline) {
			t.Fatal("bus never fresh")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkEvicted reads u1's claims for s1 through st, changes the role
// through writer and waits (bounded) until st's claims say so.
func checkEvicted(t *testing.T, st orgs.ClaimStore, writer store.Durable) {
	t.Helper()
	ctx := context.Background()
	roles := func() []store.Role {
		a, err := orgs.EntitledAccess(ctx, st, "u1", "s1")
		if err != nil {
			t.Fatal(err)
		}
		return a.Roles()
	}
	set := func(r store.Role) {
		if _, err := writer.SetMembershipRole(ctx, "u1", "o1", r); err != nil {
			t.Fatal(err)
		}
	}
	set(store.RoleNormal)
	if got := roles(); len(got) != 1 || got[0] != store.RoleNormal {
		t.Fatalf("roles %v, want [normal]", got)
	}
	set(store.RoleVisitor)
	deadline := time.Now().Add(5 * time.Second)
	for got := roles(); len(got) != 1 || got[0] != store.RoleVisitor; got = roles() {
		if time.Now().After(deadline) {
			t.Fatalf("the cache kept serving %v after the role changed elsewhere", got)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
