package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

func durUsers(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()

	u := durUser("u1", "Alice@Example.com", now)
	durIs(t, "CreateUser", s.CreateUser(ctx, u), nil)
	got, err := s.GetUser(ctx, "u1")
	durIs(t, "GetUser", err, nil)
	durEqual(t, "GetUser", got, u)

	dup := durUser("u1", "other@example.com", now)
	durIs(t, "CreateUser same ID", s.CreateUser(ctx, dup), store.ErrAlreadyExists)
	_, err = s.GetUser(ctx, "nobody")
	durIs(t, "GetUser missing", err, store.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "nobody@example.com")
	durIs(t, "GetUserByEmail missing", err, store.ErrNotFound)

	// Zero timestamps are filled from the clock; zero PasswordChangedAt
	// stays zero.
	bare := store.User{ID: "u2", Email: "bob@example.com"}
	durIs(t, "CreateUser bare", s.CreateUser(ctx, bare), nil)
	got, err = s.GetUser(ctx, "u2")
	durIs(t, "GetUser bare", err, nil)
	bare.CreatedAt, bare.UpdatedAt = now, now
	durEqual(t, "GetUser bare", got, bare)

	durIs(t, "DeleteUser", s.DeleteUser(ctx, "u2"), nil)
	_, err = s.GetUser(ctx, "u2")
	durIs(t, "GetUser deleted", err, store.ErrNotFound)
	durIs(t, "DeleteUser again", s.DeleteUser(ctx, "u2"), store.ErrNotFound)
	// The deleted user's email is free again.
	durIs(t, "CreateUser reused email", s.CreateUser(ctx, durUser("u3", "BOB@example.com", now)), nil)
}

func durUsersFoldedEmail(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()

	u := durUser("u1", "Ärger@Example.com", now)
	durIs(t, "CreateUser", s.CreateUser(ctx, u), nil)
	for _, email := range []string{"ärger@example.COM", "ÄRGER@EXAMPLE.COM", " ärger@example.com "} {
		got, err := s.GetUserByEmail(ctx, email)
		durIs(t, "GetUserByEmail "+email, err, nil)
		durEqual(t, "GetUserByEmail "+email, got, u) // stored as given
	}
	durIs(t, "CreateUser folded duplicate",
		s.CreateUser(ctx, durUser("u2", "ärger@example.COM", now)), store.ErrAlreadyExists)
	// Full case folding, not lower-casing: ß folds to ss.
	durIs(t, "CreateUser straße", s.CreateUser(ctx, durUser("u3", "straße@example.com", now)), nil)
	durIs(t, "CreateUser STRASSE",
		s.CreateUser(ctx, durUser("u4", "STRASSE@example.com", now)), store.ErrAlreadyExists)
	got, err := s.GetUserByEmail(ctx, "Strasse@Example.com")
	durIs(t, "GetUserByEmail Strasse", err, nil)
	durEqual(t, "GetUserByEmail Strasse", got.ID, "u3")
}

func durUpdateUser(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	t0 := clk.Now()
	durSeedUsers(t, s, t0, 2)
	clk.Advance(time.Minute)

	got, err := s.UpdateUser(ctx, "u1", func(u *store.User) error {
		u.Name = "Renamed"
		u.Email = "New@Example.com"
		u.Disabled = true
		u.PasswordChangedAt = time.Time{}
		u.ID = "hijack"                      // ignored
		u.CreatedAt = t0.Add(-time.Hour)     // ignored
		u.UpdatedAt = t0.Add(-2 * time.Hour) // replaced by the clock
		return nil
	})
	durIs(t, "UpdateUser", err, nil)
	want := durUser("u1", "New@Example.com", t0)
	want.Name, want.Disabled, want.PasswordChangedAt, want.UpdatedAt = "Renamed", true, time.Time{}, t0.Add(time.Minute)
	durEqual(t, "UpdateUser result", got, want)
	stored, err := s.GetUser(ctx, "u1")
	durIs(t, "GetUser", err, nil)
	durEqual(t, "GetUser after update", stored, want)
	_, err = s.GetUser(ctx, "hijack")
	durIs(t, "GetUser hijack", err, store.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "u1@example.com")
	durIs(t, "old email", err, store.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "new@example.com")
	durIs(t, "new email", err, nil)

	// Taking another user's email (folded) fails and changes nothing.
	_, err = s.UpdateUser(ctx, "u1", func(u *store.User) error {
		u.Email, u.Name = "U2@EXAMPLE.com", "Thief"
		return nil
	})
	durIs(t, "UpdateUser to taken email", err, store.ErrAlreadyExists)
	stored, _ = s.GetUser(ctx, "u1")
	durEqual(t, "after failed update", stored, want)

	// fn's error is returned and nothing is written.
	boom := errors.New("boom")
	_, err = s.UpdateUser(ctx, "u1", func(u *store.User) error {
		u.Name = "Never"
		return boom
	})
	durIs(t, "UpdateUser fn error", err, boom)
	stored, _ = s.GetUser(ctx, "u1")
	durEqual(t, "after fn error", stored.Name, "Renamed")

	// Changing only the case of one's own email is allowed.
	_, err = s.UpdateUser(ctx, "u1", func(u *store.User) error { u.Email = "NEW@example.com"; return nil })
	durIs(t, "UpdateUser case change", err, nil)

	called := false
	_, err = s.UpdateUser(ctx, "nobody", func(*store.User) error { called = true; return nil })
	durIs(t, "UpdateUser missing", err, store.ErrNotFound)
	if called {
		t.Fatal("UpdateUser called fn for a missing user")
	}
}

func durDeleteUserCascades(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 2)
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "svc", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "client", s.CreateClient(ctx, durClient("c1", now)))
	durMust(t, "membership", s.PutMembership(ctx, store.Membership{UserID: "u1", OrgID: "o1", Role: store.RoleNormal}))
	durMust(t, "membership u2", s.PutMembership(ctx, store.Membership{UserID: "u2", OrgID: "o1", Role: store.RoleVisitor}))
	durMust(t, "login ID", s.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: "L1", ServiceID: "s1", OrgID: "o1"}))
	durMust(t, "link", s.CreateLegacyLink(ctx, store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "L1"}))
	durMust(t, "consent", s.PutConsent(ctx, store.ConsentGrant{UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}}))
	durMust(t, "totp", s.PutTOTP(ctx, store.TOTPCredential{UserID: "u1", Sealed: []byte{1}}))
	durMust(t, "codes", s.ReplaceRecoveryCodes(ctx, "u1", []string{"h1"}))
	durMust(t, "token", s.CreateOneTimeToken(ctx, store.OneTimeToken{Hash: "t1", Kind: store.TokenVerifyEmail, UserID: "u1"}))
	_, err := s.AppendAudit(ctx, store.AuditEvent{Kind: "signin.success", UserID: "u1"})
	durMust(t, "audit", err)

	durIs(t, "DeleteUser", s.DeleteUser(ctx, "u1"), nil)
	ms, err := s.ListMembershipsByOrg(ctx, "o1")
	durIs(t, "ListMembershipsByOrg", err, nil)
	durEqual(t, "memberships left", len(ms), 1)
	links, _ := s.ListLegacyLinksByUser(ctx, "u1")
	durEqual(t, "links left", len(links), 0)
	_, err = s.GetConsent(ctx, "u1", "c1")
	durIs(t, "consent gone", err, store.ErrNotFound)
	_, err = s.GetTOTP(ctx, "u1")
	durIs(t, "TOTP gone", err, store.ErrNotFound)
	codes, _ := s.ListRecoveryCodes(ctx, "u1")
	durEqual(t, "codes left", len(codes), 0)
	_, err = s.ConsumeOneTimeToken(ctx, "t1", store.TokenVerifyEmail, now)
	durIs(t, "token gone", err, store.ErrNotFound)
	events, _ := s.ListAudit(ctx, store.AuditFilter{UserID: "u1"})
	durEqual(t, "audit kept", len(events), 1)
	// The legacy login ID is free to link again.
	durIs(t, "relink", s.CreateLegacyLink(ctx, store.LegacyLink{UserID: "u2", ServiceID: "s1", LoginID: "L1"}), nil)
}

func durOrganizations(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()

	b, a := durOrg("o2", now), durOrg("o1", now)
	b.Code = "NK0002"
	a.Code = "NK0001"
	durIs(t, "CreateOrganization", s.CreateOrganization(ctx, b), nil)
	durIs(t, "CreateOrganization", s.CreateOrganization(ctx, a), nil)
	got, err := s.GetOrganization(ctx, "o1")
	durIs(t, "GetOrganization", err, nil)
	durEqual(t, "GetOrganization", got, a)
	got, err = s.GetOrganizationByCode(ctx, "NK0002")
	durIs(t, "GetOrganizationByCode", err, nil)
	durEqual(t, "GetOrganizationByCode", got, b)
	list, err := s.ListOrganizations(ctx)
	durIs(t, "ListOrganizations", err, nil)
	durEqual(t, "ListOrganizations", list, []store.Organization{a, b})

	dupID := durOrg("o1", now)
	dupID.Code = "NK0003"
	durIs(t, "same ID", s.CreateOrganization(ctx, dupID), store.ErrAlreadyExists)
	dupCode := durOrg("o3", now)
	dupCode.Code = "NK0001"
	durIs(t, "same code", s.CreateOrganization(ctx, dupCode), store.ErrAlreadyExists)
	_, err = s.GetOrganization(ctx, "nope")
	durIs(t, "GetOrganization missing", err, store.ErrNotFound)
	_, err = s.GetOrganizationByCode(ctx, "NK9999")
	durIs(t, "GetOrganizationByCode missing", err, store.ErrNotFound)
}

func durServices(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()

	ships, pass := durService("s1", now), durService("s2", now)
	ships.Code, pass.Code = "nk-ships", "nk-pass"
	durIs(t, "CreateService", s.CreateService(ctx, ships), nil)
	durIs(t, "CreateService", s.CreateService(ctx, pass), nil)
	got, err := s.GetService(ctx, "s1")
	durIs(t, "GetService", err, nil)
	durEqual(t, "GetService", got, ships)
	got, err = s.GetServiceByCode(ctx, "nk-pass")
	durIs(t, "GetServiceByCode", err, nil)
	durEqual(t, "GetServiceByCode", got, pass)
	list, err := s.ListServices(ctx)
	durIs(t, "ListServices", err, nil)
	durEqual(t, "ListServices by code", list, []store.Service{pass, ships})

	dup := durService("s1", now)
	durIs(t, "same ID", s.CreateService(ctx, dup), store.ErrAlreadyExists)
	dup = durService("s3", now)
	dup.Code = "nk-ships"
	durIs(t, "same code", s.CreateService(ctx, dup), store.ErrAlreadyExists)
	_, err = s.GetService(ctx, "nope")
	durIs(t, "GetService missing", err, store.ErrNotFound)
	_, err = s.GetServiceByCode(ctx, "nope")
	durIs(t, "GetServiceByCode missing", err, store.ErrNotFound)
}

func durMemberships(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 2)
	durMust(t, "org o1", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "org o2", s.CreateOrganization(ctx, durOrg("o2", now)))

	m11 := store.Membership{UserID: "u1", OrgID: "o1", Role: store.RoleAdministrator, CreatedAt: now}
	m12 := store.Membership{UserID: "u1", OrgID: "o2", Role: store.RoleVisitor, CreatedAt: now}
	m21 := store.Membership{UserID: "u2", OrgID: "o1", Role: store.RoleNormal, CreatedAt: now}
	for _, m := range []store.Membership{m12, m21, m11} {
		durIs(t, "PutMembership", s.PutMembership(ctx, m), nil)
	}
	byUser, err := s.ListMembershipsByUser(ctx, "u1")
	durIs(t, "ListMembershipsByUser", err, nil)
	durEqual(t, "ListMembershipsByUser", byUser, []store.Membership{m11, m12})
	byOrg, err := s.ListMembershipsByOrg(ctx, "o1")
	durIs(t, "ListMembershipsByOrg", err, nil)
	durEqual(t, "ListMembershipsByOrg", byOrg, []store.Membership{m11, m21})

	// Putting again changes the role and keeps CreatedAt.
	clk.Advance(time.Hour)
	durIs(t, "PutMembership change role", s.PutMembership(ctx, store.Membership{
		UserID: "u2", OrgID: "o1", Role: store.RoleAdministrator, CreatedAt: clk.Now()}), nil)
	byOrg, _ = s.ListMembershipsByOrg(ctx, "o1")
	m21.Role = store.RoleAdministrator
	durEqual(t, "after role change", byOrg, []store.Membership{m11, m21})

	durIs(t, "DeleteMembership", s.DeleteMembership(ctx, "u1", "o2"), nil)
	durIs(t, "DeleteMembership again", s.DeleteMembership(ctx, "u1", "o2"), store.ErrNotFound)
	byUser, _ = s.ListMembershipsByUser(ctx, "u1")
	durEqual(t, "after delete", byUser, []store.Membership{m11})
	none, err := s.ListMembershipsByUser(ctx, "nobody")
	durIs(t, "ListMembershipsByUser nobody", err, nil)
	durEqual(t, "ListMembershipsByUser nobody", len(none), 0)

	durIs(t, "PutMembership missing user", s.PutMembership(ctx,
		store.Membership{UserID: "ghost", OrgID: "o1", Role: store.RoleNormal}), store.ErrNotFound)
	durIs(t, "PutMembership missing org", s.PutMembership(ctx,
		store.Membership{UserID: "u1", OrgID: "ghost", Role: store.RoleNormal}), store.ErrNotFound)
}

func durEntitlements(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "svc s1", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "svc s2", s.CreateService(ctx, durService("s2", now)))

	e1 := store.Entitlement{OrgID: "o1", ServiceID: "s1", CreatedAt: now}
	e2 := store.Entitlement{OrgID: "o1", ServiceID: "s2", CreatedAt: now}
	durIs(t, "PutEntitlement", s.PutEntitlement(ctx, e2), nil)
	durIs(t, "PutEntitlement", s.PutEntitlement(ctx, e1), nil)
	again := e1
	again.CreatedAt = now.Add(time.Hour)
	durIs(t, "PutEntitlement again", s.PutEntitlement(ctx, again), nil)
	list, err := s.ListEntitlementsByOrg(ctx, "o1")
	durIs(t, "ListEntitlementsByOrg", err, nil)
	durEqual(t, "ListEntitlementsByOrg (idempotent)", list, []store.Entitlement{e1, e2})

	durIs(t, "DeleteEntitlement", s.DeleteEntitlement(ctx, "o1", "s1"), nil)
	durIs(t, "DeleteEntitlement again", s.DeleteEntitlement(ctx, "o1", "s1"), store.ErrNotFound)
	list, _ = s.ListEntitlementsByOrg(ctx, "o1")
	durEqual(t, "after delete", list, []store.Entitlement{e2})
	durIs(t, "PutEntitlement missing service", s.PutEntitlement(ctx,
		store.Entitlement{OrgID: "o1", ServiceID: "ghost"}), store.ErrNotFound)
	durIs(t, "PutEntitlement missing org", s.PutEntitlement(ctx,
		store.Entitlement{OrgID: "ghost", ServiceID: "s1"}), store.ErrNotFound)
}
