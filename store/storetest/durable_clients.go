package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

func durClients(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()

	c2 := durClient("c2", now)
	c2.OmitRefreshIDToken, c2.AccessTokenSigningAlgorithm = true, "ES256" // token options round-trip
	c1 := durClient("c1", now)
	c1.ServiceID = "svc-1"
	c1.RedirectURIs = []string{"https://a.example/cb?x=1&y=\"2\"", "com.example.app:/oauth", "https://ü.example/ä"}
	durIs(t, "CreateClient", s.CreateClient(ctx, c2), nil)
	durIs(t, "CreateClient", s.CreateClient(ctx, c1), nil)
	got, err := s.GetClient(ctx, "c1")
	durIs(t, "GetClient", err, nil)
	durEqual(t, "GetClient (list fields round-trip)", got, c1)

	// A public client with no lists.
	pub := store.Client{ID: "c3", Name: "SPA", Public: true, AccessTokenType: store.AccessTokenOpaque,
		RedirectURIs: []string{}, GrantTypes: nil}
	durIs(t, "CreateClient public", s.CreateClient(ctx, pub), nil)
	got, err = s.GetClient(ctx, "c3")
	durIs(t, "GetClient public", err, nil)
	pub.RedirectURIs = nil // empty lists read back as nil
	pub.CreatedAt, pub.UpdatedAt = now, now
	durEqual(t, "GetClient public", got, pub)

	list, err := s.ListClients(ctx)
	durIs(t, "ListClients", err, nil)
	durEqual(t, "ListClients", list, []store.Client{c1, c2, pub})

	durIs(t, "CreateClient same ID", s.CreateClient(ctx, durClient("c1", now)), store.ErrAlreadyExists)
	_, err = s.GetClient(ctx, "nope")
	durIs(t, "GetClient missing", err, store.ErrNotFound)
	durIs(t, "DeleteClient", s.DeleteClient(ctx, "c2"), nil)
	durIs(t, "DeleteClient again", s.DeleteClient(ctx, "c2"), store.ErrNotFound)
	_, err = s.GetClient(ctx, "c2")
	durIs(t, "GetClient deleted", err, store.ErrNotFound)
}

func durUpdateClient(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	t0 := clk.Now()
	c := durClient("c1", t0)
	durMust(t, "CreateClient", s.CreateClient(ctx, c))
	clk.Advance(time.Second)

	got, err := s.UpdateClient(ctx, "c1", func(c *store.Client) error {
		c.RedirectURIs = append(c.RedirectURIs, "https://new.example/cb")
		c.GrantTypes = []string{"client_credentials"}
		c.PostLogoutRedirectURIs = nil
		c.AccessTokenType = store.AccessTokenOpaque
		c.OrganizationSelection = store.OrgSelectionOptional
		c.OmitRefreshIDToken, c.AccessTokenSigningAlgorithm = true, "ES256"
		c.ID, c.CreatedAt = "hijack", time.Time{}
		return nil
	})
	durIs(t, "UpdateClient", err, nil)
	want := c
	want.RedirectURIs = append(append([]string(nil), c.RedirectURIs...), "https://new.example/cb")
	want.GrantTypes = []string{"client_credentials"}
	want.PostLogoutRedirectURIs = nil
	want.AccessTokenType = store.AccessTokenOpaque
	want.OrganizationSelection = store.OrgSelectionOptional
	want.OmitRefreshIDToken, want.AccessTokenSigningAlgorithm = true, "ES256"
	want.UpdatedAt = t0.Add(time.Second)
	durEqual(t, "UpdateClient result", got, want)
	stored, err := s.GetClient(ctx, "c1")
	durIs(t, "GetClient", err, nil)
	durEqual(t, "GetClient after update", stored, want)

	boom := errors.New("boom")
	_, err = s.UpdateClient(ctx, "c1", func(c *store.Client) error { c.Name = "x"; return boom })
	durIs(t, "UpdateClient fn error", err, boom)
	stored, _ = s.GetClient(ctx, "c1")
	durEqual(t, "after fn error", stored, want)
	_, err = s.UpdateClient(ctx, "nope", func(*store.Client) error { return nil })
	durIs(t, "UpdateClient missing", err, store.ErrNotFound)
}

func durLegacy(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 2)
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "svc s1", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "svc s2", s.CreateService(ctx, durService("s2", now)))

	l1 := store.LegacyLoginID{LoginID: "NK-001", ServiceID: "s1", OrgID: "o1", PasswordHash: "$2a$10$x", CreatedAt: now}
	l2 := store.LegacyLoginID{LoginID: "NK-002", ServiceID: "s1", OrgID: "o1", Disabled: true, CreatedAt: now}
	l3 := store.LegacyLoginID{LoginID: "NK-001", ServiceID: "s2", OrgID: "o1", CreatedAt: now} // same ID, other service
	for _, l := range []store.LegacyLoginID{l1, l2, l3} {
		durIs(t, "CreateLegacyLoginID "+l.ServiceID+"/"+l.LoginID, s.CreateLegacyLoginID(ctx, l), nil)
	}
	durIs(t, "CreateLegacyLoginID again", s.CreateLegacyLoginID(ctx, l1), store.ErrAlreadyExists)
	got, err := s.GetLegacyLoginID(ctx, "s1", "NK-002")
	durIs(t, "GetLegacyLoginID", err, nil)
	durEqual(t, "GetLegacyLoginID", got, l2)
	_, err = s.GetLegacyLoginID(ctx, "s2", "NK-002")
	durIs(t, "GetLegacyLoginID other service", err, store.ErrNotFound)
	durIs(t, "CreateLegacyLoginID missing service", s.CreateLegacyLoginID(ctx,
		store.LegacyLoginID{LoginID: "x", ServiceID: "ghost", OrgID: "o1"}), store.ErrNotFound)

	link := store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "NK-001", LinkedAt: now}
	durIs(t, "CreateLegacyLink", s.CreateLegacyLink(ctx, link), nil)
	// One link per user per service.
	durIs(t, "second link for the same service", s.CreateLegacyLink(ctx,
		store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "NK-002"}), store.ErrAlreadyExists)
	// A login ID may be linked to many people (everyone who shared it).
	shared := store.LegacyLink{UserID: "u2", ServiceID: "s1", LoginID: "NK-001", LinkedAt: now}
	durIs(t, "login ID linked to another user", s.CreateLegacyLink(ctx, shared), nil)
	byID, err := s.ListLegacyLinksByLoginID(ctx, "s1", "NK-001")
	durIs(t, "ListLegacyLinksByLoginID", err, nil)
	durEqual(t, "ListLegacyLinksByLoginID", byID, []store.LegacyLink{link, shared})
	// The same login ID string of another service is another login ID.
	link2 := store.LegacyLink{UserID: "u1", ServiceID: "s2", LoginID: "NK-001", LinkedAt: now}
	durIs(t, "link other service", s.CreateLegacyLink(ctx, link2), nil)
	durIs(t, "link missing login ID", s.CreateLegacyLink(ctx,
		store.LegacyLink{UserID: "u2", ServiceID: "s2", LoginID: "ghost"}), store.ErrNotFound)
	durIs(t, "link missing user", s.CreateLegacyLink(ctx,
		store.LegacyLink{UserID: "ghost", ServiceID: "s1", LoginID: "NK-002"}), store.ErrNotFound)

	links, err := s.ListLegacyLinksByUser(ctx, "u1")
	durIs(t, "ListLegacyLinksByUser", err, nil)
	durEqual(t, "ListLegacyLinksByUser", links, []store.LegacyLink{link, link2})
	durIs(t, "DeleteLegacyLink", s.DeleteLegacyLink(ctx, "u2", "s1"), nil)
	durIs(t, "DeleteLegacyLink again", s.DeleteLegacyLink(ctx, "u2", "s1"), store.ErrNotFound)
	links, err = s.ListLegacyLinksByUser(ctx, "u2")
	durIs(t, "ListLegacyLinksByUser u2", err, nil)
	durEqual(t, "ListLegacyLinksByUser u2", len(links), 0)
}

func durConsent(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	t0 := clk.Now()
	durSeedUsers(t, s, t0, 1)
	durMust(t, "client c1", s.CreateClient(ctx, durClient("c1", t0)))
	durMust(t, "client c2", s.CreateClient(ctx, durClient("c2", t0)))

	g2 := store.ConsentGrant{UserID: "u1", ClientID: "c2", Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0}
	g1 := store.ConsentGrant{UserID: "u1", ClientID: "c1", Scopes: []string{"openid", "email", "profile"},
		CreatedAt: t0, UpdatedAt: t0}
	durIs(t, "PutConsent", s.PutConsent(ctx, g2), nil)
	durIs(t, "PutConsent", s.PutConsent(ctx, g1), nil)
	got, err := s.GetConsent(ctx, "u1", "c1")
	durIs(t, "GetConsent", err, nil)
	durEqual(t, "GetConsent", got, g1)

	// Replacing keeps the first CreatedAt; zero UpdatedAt is the clock.
	clk.Advance(time.Hour)
	durIs(t, "PutConsent replace", s.PutConsent(ctx, store.ConsentGrant{
		UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}}), nil)
	got, _ = s.GetConsent(ctx, "u1", "c1")
	g1.Scopes, g1.UpdatedAt = []string{"openid"}, t0.Add(time.Hour)
	durEqual(t, "GetConsent after replace", got, g1)

	list, err := s.ListConsentsByUser(ctx, "u1")
	durIs(t, "ListConsentsByUser", err, nil)
	durEqual(t, "ListConsentsByUser", list, []store.ConsentGrant{g1, g2})

	durIs(t, "DeleteConsent", s.DeleteConsent(ctx, "u1", "c2"), nil)
	durIs(t, "DeleteConsent again", s.DeleteConsent(ctx, "u1", "c2"), store.ErrNotFound)
	_, err = s.GetConsent(ctx, "u1", "c2")
	durIs(t, "GetConsent deleted", err, store.ErrNotFound)
	durIs(t, "PutConsent missing client", s.PutConsent(ctx,
		store.ConsentGrant{UserID: "u1", ClientID: "ghost"}), store.ErrNotFound)

	// Deleting the client removes the consent given to it.
	durMust(t, "DeleteClient", s.DeleteClient(ctx, "c1"))
	_, err = s.GetConsent(ctx, "u1", "c1")
	durIs(t, "GetConsent after client deleted", err, store.ErrNotFound)
}
