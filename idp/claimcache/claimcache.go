// Package claimcache keeps in memory the two reads behind the claims the
// token endpoints compute from the directory: a person's memberships in
// organizations entitled to a service (`orgs`, `roles`, `org` and the
// entitlement check) and their legacy login ID links (`legacy_ids`).
// Refresh, userinfo and introspection then make no database round trip
// for them on their hot paths.
//
// Every write that changes the answers announces itself once committed
// (idp/announce: a membership or a legacy link for its person; an
// organization, an entitlement or a service for everyone; a deleted user
// for that person), and every replica evicts on arrival; the rest of the
// staleness rules are announce.Cache's (used only while announcements
// arrive, an entry lives TTL at most, a racing load is not kept). Sign-in
// (and the organization choice) reads the store directly, never this
// cache.
package claimcache

import (
	"context"
	"time"

	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// TTL is how long an entry lives at most.
const TTL = 10 * time.Second

// maxEntries bounds each of the two reads' entries (50,000 in all).
const maxEntries = 25_000

// Loader is what the cache reads through (store.Durable has it).
type Loader interface {
	ListEntitledMemberships(ctx context.Context, userID, serviceID string) ([]store.EntitledMembership, error)
	ListLegacyLinksByUser(ctx context.Context, userID string) ([]store.LegacyLink, error)
}

// Cache is the in-memory copy: the memberships by person and service, the
// links by person.
type Cache struct {
	load  Loader
	ems   *announce.Cache[[]store.EntitledMembership]
	links *announce.Cache[[]store.LegacyLink]
}

// New returns a cache that reads through load and evicts on bus's
// announcements of claims and of users.
func New(bus announce.Listener, load Loader, ttl time.Duration, now func() time.Time) *Cache {
	return &Cache{
		load: load,
		ems: announce.NewCache(bus, ttl, now, maxEntries, announce.CloneSlice[store.EntitledMembership],
			announce.Claims, announce.User),
		links: announce.NewCache(bus, ttl, now, maxEntries, announce.CloneSlice[store.LegacyLink],
			announce.Claims, announce.User),
	}
}

// ListEntitledMemberships returns userID's memberships in organizations
// entitled to serviceID, from memory when it can be trusted.
func (c *Cache) ListEntitledMemberships(ctx context.Context, userID, serviceID string) ([]store.EntitledMembership, error) {
	return c.ems.Get(userID, serviceID, func() ([]store.EntitledMembership, error) {
		return c.load.ListEntitledMemberships(ctx, userID, serviceID)
	})
}

// ListLegacyLinksByUser returns userID's legacy login ID links, from
// memory when it can be trusted.
func (c *Cache) ListLegacyLinksByUser(ctx context.Context, userID string) ([]store.LegacyLink, error) {
	return c.links.Get(userID, "", func() ([]store.LegacyLink, error) {
		return c.load.ListLegacyLinksByUser(ctx, userID)
	})
}

// Reader is st with the cached reads answered by the cache.
type Reader struct {
	orgs.ClaimStore
	*Cache
}

// Over returns st with the cached reads answered by c; its other reads
// go to st.
func (c *Cache) Over(st orgs.ClaimStore) Reader { return Reader{st, c} }
