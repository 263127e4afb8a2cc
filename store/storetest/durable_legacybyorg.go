package storetest

import (
	"context"
	"testing"

	"github.com/customerhub/hubid/store"
)

// durLegacyByOrg: ListLegacyLoginIDsByOrg returns the organization's login
// IDs of every service and nobody else's, by service ID then login ID,
// with every field; an organization without any gets none; a login ID
// moved to another organization (a later import) moves with it.
func durLegacyByOrg(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	for _, id := range []string{"s2", "s1"} {
		durMust(t, "svc", s.CreateService(ctx, durService(id, now)))
	}
	for _, o := range []store.Organization{{ID: "o1", Code: "ACME", Name: "Acme"}, {ID: "o2", Code: "BETA", Name: "Beta"}, {ID: "o3", Code: "NONE", Name: "None"}} {
		durMust(t, "org", s.CreateOrganization(ctx, o))
	}
	mk := func(svc, id, org string) store.LegacyLoginID {
		return store.LegacyLoginID{LoginID: id, ServiceID: svc, OrgID: org, PasswordHash: "h-" + id, ContactEmail: id + "@example.com", CreatedAt: now}
	}
	all := []store.LegacyLoginID{
		mk("s2", "Z-1", "o1"), mk("s1", "B-2", "o1"), mk("s1", "A-1", "o1"), mk("s2", "A-9", "o1"),
		mk("s1", "A-5", "o2"), mk("s2", "C-3", "o2"),
	}
	all[1].Disabled = true
	for _, l := range all {
		durMust(t, "CreateLegacyLoginID "+l.LoginID, s.CreateLegacyLoginID(ctx, l))
	}
	got, err := s.ListLegacyLoginIDsByOrg(ctx, "o1")
	durIs(t, "ListLegacyLoginIDsByOrg o1", err, nil)
	durEqual(t, "ListLegacyLoginIDsByOrg o1", got, []store.LegacyLoginID{all[2], all[1], all[3], all[0]})
	got, err = s.ListLegacyLoginIDsByOrg(ctx, "o2")
	durIs(t, "ListLegacyLoginIDsByOrg o2", err, nil)
	durEqual(t, "ListLegacyLoginIDsByOrg o2", got, []store.LegacyLoginID{all[4], all[5]})
	for _, org := range []string{"o3", "missing"} {
		got, err = s.ListLegacyLoginIDsByOrg(ctx, org)
		durIs(t, "ListLegacyLoginIDsByOrg "+org, err, nil)
		durEqual(t, "ListLegacyLoginIDsByOrg "+org, len(got), 0)
	}

	// A later import moves A-5 to Acme.
	_, err = s.ImportLegacyLoginIDs(ctx, "s1", []store.LegacyImportRow{
		{Line: 2, LoginID: "A-5", OrgCode: "ACME", OrgName: "Acme", NewOrgID: "unused", PasswordHash: "h-A-5", ContactEmail: "A-5@example.com"}})
	durIs(t, "import", err, nil)
	got, err = s.ListLegacyLoginIDsByOrg(ctx, "o2")
	durIs(t, "after the move, o2", err, nil)
	durEqual(t, "after the move, o2", len(got) == 1 && got[0].LoginID == "C-3", true)
	got, err = s.ListLegacyLoginIDsByOrg(ctx, "o1")
	durIs(t, "after the move, o1", err, nil)
	ids := make([]string, len(got))
	for i, l := range got {
		ids[i] = l.ServiceID + "/" + l.LoginID
	}
	durEqual(t, "after the move, o1", ids, []string{"s1/A-1", "s1/A-5", "s1/B-2", "s2/A-9", "s2/Z-1"})
}
