package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// durLegacyImport: the bulk upsert classifies, creates organizations on
// first sight, updates what changed and nothing else, and is idempotent.
func durLegacyImport(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durMust(t, "svc", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "org", s.CreateOrganization(ctx, store.Organization{ID: "o1", Code: "ACME", Name: "Acme"}))
	rows := []store.LegacyImportRow{
		{Line: 2, LoginID: "A-1", OrgCode: "ACME", OrgName: "Acme", NewOrgID: "x1", PasswordHash: "h1"},
		{Line: 3, LoginID: "B-1", OrgCode: "BETA", OrgName: "Beta", NewOrgID: "ob", PasswordHash: "h2", ContactEmail: "b@example.com"},
		{Line: 4, LoginID: "B-2", OrgCode: "BETA", OrgName: "Beta", NewOrgID: "ob"},
	}
	res, err := s.ImportLegacyLoginIDs(ctx, "s1", rows)
	durIs(t, "first import", err, nil)
	durEqual(t, "first import", res, store.LegacyImportResult{
		Changes: []store.LegacyImportChange{
			{Line: 2, LoginID: "A-1", Created: true, OrgCode: "ACME"},
			{Line: 3, LoginID: "B-1", Created: true, OrgCode: "BETA"},
			{Line: 4, LoginID: "B-2", Created: true, OrgCode: "BETA"},
		},
		OrgsCreated: []string{"BETA"},
	})
	beta, err := s.GetOrganizationByCode(ctx, "BETA")
	durIs(t, "organization created", err, nil)
	durEqual(t, "organization created", beta, store.Organization{ID: "ob", Code: "BETA", Name: "Beta", CreatedAt: now})
	got, err := s.GetLegacyLoginID(ctx, "s1", "B-1")
	durIs(t, "imported", err, nil)
	durEqual(t, "imported", got, store.LegacyLoginID{LoginID: "B-1", ServiceID: "s1", OrgID: "ob",
		PasswordHash: "h2", ContactEmail: "b@example.com", CreatedAt: now})

	res, err = s.ImportLegacyLoginIDs(ctx, "s1", rows)
	durIs(t, "second import", err, nil)
	durEqual(t, "second import", res, store.LegacyImportResult{Unchanged: 3})

	clk.Advance(time.Minute)
	rows[0].PasswordHash = "h1b"
	rows[1].OrgCode, rows[1].OrgName, rows[1].NewOrgID = "ACME", "Acme", "x2"
	rows[2].ContactEmail = "c@example.com"
	res, err = s.ImportLegacyLoginIDs(ctx, "s1", rows)
	durIs(t, "third import", err, nil)
	durEqual(t, "third import", res, store.LegacyImportResult{Changes: []store.LegacyImportChange{
		{Line: 2, LoginID: "A-1", PasswordChanged: true, OrgCode: "ACME"},
		{Line: 3, LoginID: "B-1", OrgChanged: true, OrgCode: "ACME"},
		{Line: 4, LoginID: "B-2", ContactChanged: true, OrgCode: "BETA"},
	}})
	got, _ = s.GetLegacyLoginID(ctx, "s1", "B-1")
	durEqual(t, "moved", got.OrgID+" "+got.UpdatedAt.String(), "o1 "+clk.Now().String())
	ids, err := s.ListLegacyLoginIDs(ctx, "s1")
	durIs(t, "ListLegacyLoginIDs", err, nil)
	durEqual(t, "ListLegacyLoginIDs", len(ids), 3)

	// Inside a transaction that is rolled back (a dry run), nothing stays.
	dry := errors.New("dry run")
	err = s.InTx(ctx, func(tx store.Durable) error {
		res, err = tx.ImportLegacyLoginIDs(ctx, "s1", []store.LegacyImportRow{
			{Line: 2, LoginID: "N-1", OrgCode: "NEW", OrgName: "New", NewOrgID: "on"}})
		if err != nil {
			return err
		}
		return dry
	})
	durIs(t, "dry run", err, dry)
	durEqual(t, "dry run result", len(res.Changes), 1)
	_, err = s.GetOrganizationByCode(ctx, "NEW")
	durIs(t, "dry run left no organization", err, store.ErrNotFound)
	_, err = s.ImportLegacyLoginIDs(ctx, "ghost", rows)
	durIs(t, "missing service", err, store.ErrNotFound)
}

// durLegacyImportLarge: 10,000 rows in one call (several staging batches).
func durLegacyImportLarge(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	durMust(t, "svc", s.CreateService(ctx, durService("s1", clk.Now())))
	rows := LegacyRows(10000, 100)
	res, err := s.ImportLegacyLoginIDs(ctx, "s1", rows)
	durIs(t, "import", err, nil)
	durEqual(t, "created", len(res.Changes), 10000)
	durEqual(t, "organizations", len(res.OrgsCreated), 100)
	res, err = s.ImportLegacyLoginIDs(ctx, "s1", rows)
	durIs(t, "again", err, nil)
	durEqual(t, "unchanged", res.Unchanged, 10000)
}

// LegacyRows returns n import rows spread over orgs organizations, for
// tests and benchmarks.
func LegacyRows(n, orgs int) []store.LegacyImportRow {
	rows := make([]store.LegacyImportRow, n)
	for i := range rows {
		o := i % orgs
		rows[i] = store.LegacyImportRow{Line: i + 2, LoginID: fmt.Sprintf("ID%07d", i),
			OrgCode: fmt.Sprintf("ORG%05d", o), OrgName: fmt.Sprintf("Org %d", o), NewOrgID: fmt.Sprintf("org-%d", o),
			PasswordHash: "$2a$10$abcdefghijklmnopqrstuuvwxyzabcdefghijklmnopqrstuvwxyz12"}
	}
	return rows
}

// durLegacyLink: LinkLegacyLoginID shows fn the organization and its
// members, writes link and membership together, and writes neither when
// the link is refused.
func durLegacyLink(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 2)
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "svc", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "id", s.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: "L1", ServiceID: "s1", OrgID: "o1"}))
	durMust(t, "id", s.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: "L2", ServiceID: "s1", OrgID: "o1"}))
	admin := func(org store.Organization, ms []store.Membership) (*store.Membership, error) {
		role := store.RoleAdministrator
		if len(ms) > 0 {
			role = store.RoleNormal
		}
		return &store.Membership{UserID: fmt.Sprint(len(ms) + 1), OrgID: org.ID, Role: role}, nil
	}
	mk := func(user string) func(store.Organization, []store.Membership) (*store.Membership, error) {
		return func(org store.Organization, ms []store.Membership) (*store.Membership, error) {
			m, _ := admin(org, ms)
			m.UserID = user
			return m, nil
		}
	}
	durIs(t, "link u1", s.LinkLegacyLoginID(ctx, store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "L1"}, mk("u1")), nil)
	durIs(t, "u1 again, other ID of the service", s.LinkLegacyLoginID(ctx,
		store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "L2"}, mk("u1")), store.ErrAlreadyExists)
	durIs(t, "link u2", s.LinkLegacyLoginID(ctx, store.LegacyLink{UserID: "u2", ServiceID: "s1", LoginID: "L1"}, mk("u2")), nil)
	ms, _ := s.ListMembershipsByOrg(ctx, "o1")
	durEqual(t, "roles", fmt.Sprint(ms[0].UserID, ms[0].Role, ms[1].UserID, ms[1].Role), "u1administratoru2normal")
	boom := errors.New("boom")
	durIs(t, "fn error", s.LinkLegacyLoginID(ctx, store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "L2"},
		func(store.Organization, []store.Membership) (*store.Membership, error) { return nil, boom }), boom)
	durIs(t, "missing login ID", s.LinkLegacyLoginID(ctx, store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "L9"}, mk("u1")), store.ErrNotFound)
}

// durLegacyReport: counts per service and organization against a
// hand-counted fixture.
func durLegacyReport(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 4)
	for _, o := range []string{"o1", "o2"} {
		durMust(t, "org", s.CreateOrganization(ctx, durOrg(o, now)))
	}
	for _, v := range []string{"s1", "s2"} {
		durMust(t, "svc", s.CreateService(ctx, durService(v, now)))
	}
	ids := []struct{ svc, id, org string }{
		{"s1", "A", "o1"}, {"s1", "B", "o1"}, {"s1", "C", "o1"}, {"s1", "D", "o2"}, {"s2", "A", "o1"},
	}
	for _, x := range ids {
		durMust(t, "id", s.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: x.id, ServiceID: x.svc, OrgID: x.org}))
	}
	// s1/o1: A has u1, u2, u3; B has u4; C nobody. s1/o2: nobody. s2/o1: A has u1.
	for _, l := range []store.LegacyLink{{UserID: "u1", ServiceID: "s1", LoginID: "A"}, {UserID: "u2", ServiceID: "s1", LoginID: "A"},
		{UserID: "u3", ServiceID: "s1", LoginID: "A"}, {UserID: "u4", ServiceID: "s1", LoginID: "B"}, {UserID: "u1", ServiceID: "s2", LoginID: "A"}} {
		durMust(t, "link", s.CreateLegacyLink(ctx, l))
	}
	rep, err := s.LegacyReport(ctx, "")
	durIs(t, "LegacyReport", err, nil)
	durEqual(t, "LegacyReport", rep, []store.LegacyReportRow{
		{ServiceCode: "svc-s1", OrgCode: "C-o1", OrgName: "Org o1", Total: 3, Registered: 2, People: 4},
		{ServiceCode: "svc-s1", OrgCode: "C-o2", OrgName: "Org o2", Total: 1},
		{ServiceCode: "svc-s2", OrgCode: "C-o1", OrgName: "Org o1", Total: 1, Registered: 1, People: 1},
	})
	rep, err = s.LegacyReport(ctx, "s2")
	durIs(t, "LegacyReport s2", err, nil)
	durEqual(t, "LegacyReport s2", len(rep), 1)
}

// durLegacyRegistration: pending registrations are used once and expire.
func durLegacyRegistration(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "svc", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "id", s.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: "L1", ServiceID: "s1", OrgID: "o1"}))
	g := store.LegacyRegistration{Hash: "h1", ServiceID: "s1", LoginID: "L1", Email: "a@example.com", Name: "A", Locale: "ja",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	durIs(t, "create", s.CreateLegacyRegistration(ctx, g), nil)
	durIs(t, "create again", s.CreateLegacyRegistration(ctx, g), store.ErrAlreadyExists)
	durIs(t, "missing login ID", s.CreateLegacyRegistration(ctx, store.LegacyRegistration{Hash: "h2", ServiceID: "s1",
		LoginID: "L9", ExpiresAt: now.Add(time.Hour)}), store.ErrNotFound)
	got, err := s.GetLegacyRegistration(ctx, "h1")
	durIs(t, "get", err, nil)
	durEqual(t, "get", got, g)
	durMust(t, "expiring", s.CreateLegacyRegistration(ctx, store.LegacyRegistration{Hash: "h3", ServiceID: "s1", LoginID: "L1",
		Email: "b@example.com", ExpiresAt: now.Add(time.Minute)}))
	clk.Advance(time.Minute)
	_, err = s.ConsumeLegacyRegistration(ctx, "h3", clk.Now())
	durIs(t, "expired", err, store.ErrNotFound)
	errs := Together(20, func(int) error { _, err := s.ConsumeLegacyRegistration(ctx, "h1", clk.Now()); return err })
	ok, used := durCount(t, "consume", errs, store.ErrAlreadyUsed)
	durEqual(t, "consumed once", [2]int{ok, used}, [2]int{1, 19})
	_, err = s.ConsumeLegacyRegistration(ctx, "nope", clk.Now())
	durIs(t, "missing", err, store.ErrNotFound)
}

// durContentionLegacyFirstAdmin: people registering for one organization
// at once; the one that finds no administrator becomes it, exactly once.
func durContentionLegacyFirstAdmin(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	const n = 12
	durSeedUsers(t, s, now, n)
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "svc", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "id", s.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: "L1", ServiceID: "s1", OrgID: "o1"}))
	durWarm(s, n)
	errs := Together(n, func(i int) error {
		user := fmt.Sprintf("u%d", i+1)
		return s.LinkLegacyLoginID(ctx, store.LegacyLink{UserID: user, ServiceID: "s1", LoginID: "L1"},
			func(org store.Organization, ms []store.Membership) (*store.Membership, error) {
				role := store.RoleAdministrator
				for _, m := range ms {
					if m.Role == store.RoleAdministrator {
						role = store.RoleNormal
					}
				}
				return &store.Membership{UserID: user, OrgID: org.ID, Role: role}, nil
			})
	})
	ok, _ := durCount(t, "link", errs, store.ErrUnavailable)
	durEqual(t, "linked", ok, n)
	ms, _ := s.ListMembershipsByOrg(ctx, "o1")
	admins := 0
	for _, m := range ms {
		if m.Role == store.RoleAdministrator {
			admins++
		}
	}
	durEqual(t, "members", len(ms), n)
	durEqual(t, "administrators", admins, 1)
}
