package legacy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/store"
)

// An organization's administrator links and unlinks the organization's
// login IDs to its members only; everyone else is refused and nothing
// changes.
func TestOrgAdministratorLinksOwnLoginIDsOnly(t *testing.T) {
	d := openSQLite(t)
	importer(t, d)
	// After the cutover: administrators still link their organization's
	// login IDs to members.
	svc := legacy.New(legacy.Deps{Store: d, Now: func() time.Time { return t0 },
		Window: legacy.Window{Start: t0.AddDate(0, -3, 0), End: t0.AddDate(0, 0, -20), Cutover: t0.AddDate(0, 0, -1)}})
	if svc.Phase() != legacy.PhaseCutover {
		t.Fatalf("phase %v", svc.Phase())
	}
	ctx := context.Background()
	file := header + "NKS-A,ACME,Acme Ltd,,\nNKS-A2,ACME,Acme Ltd,,\nNKS-B,BETA,Beta KK,,\n"
	if _, err := svc.Import(ctx, "nk-ships", strings.NewReader(file), legacy.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	acme, beta := mustOrg(t, d, "ACME"), mustOrg(t, d, "BETA")
	user := func(id string, org store.Organization, role store.Role) string {
		if err := d.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := d.PutMembership(ctx, store.Membership{UserID: id, OrgID: org.ID, Role: role, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	admin, member, normal := user("admin", acme, store.RoleAdministrator), user("member", acme, store.RoleNormal), user("normal", acme, store.RoleNormal)
	betaAdmin, betaMember := user("betaadmin", beta, store.RoleAdministrator), user("betamember", beta, store.RoleNormal)

	refused := []struct {
		name                           string
		actor, org, user, svc, loginID string
		code                           apperr.Code
	}{
		{"normal user", normal, acme.ID, member, "nk-ships", "NKS-A", apperr.Forbidden},
		{"admin of another org", betaAdmin, acme.ID, member, "nk-ships", "NKS-A", apperr.Forbidden},
		{"login ID of another org", admin, acme.ID, member, "nk-ships", "NKS-B", apperr.NotFound},
		{"person of another org", admin, acme.ID, betaMember, "nk-ships", "NKS-A", apperr.NotFound},
		{"unknown service", admin, acme.ID, member, "nope", "NKS-A", apperr.NotFound},
	}
	for _, c := range refused {
		err := svc.LinkMember(ctx, c.actor, c.org, c.user, c.svc, c.loginID)
		if apperr.CodeOf(err) != c.code {
			t.Errorf("%s: LinkMember = %v, want %s", c.name, err, c.code)
		}
	}
	if err := svc.LinkMember(ctx, admin, acme.ID, member, "nk-ships", "NKS-A"); err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkMember(ctx, admin, acme.ID, member, "nk-ships", "NKS-A2"); !errors.Is(err, legacy.ErrOnePerService) {
		t.Fatalf("second login ID of one service: %v", err)
	}
	if err := svc.LinkMember(ctx, betaAdmin, beta.ID, betaMember, "nk-ships", "NKS-B"); err != nil {
		t.Fatal(err)
	}
	rows, err := svc.OrgLoginIDs(ctx, admin, acme.ID)
	if err != nil || len(rows) != 2 || rows[0].LoginID.LoginID != "NKS-A" || len(rows[0].Linked) != 1 || rows[0].Linked[0].ID != member {
		t.Fatalf("OrgLoginIDs = %+v, %v", rows, err)
	}
	if _, err := svc.OrgLoginIDs(ctx, betaAdmin, acme.ID); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("another org's admin listed ACME's login IDs: %v", err)
	}
	// ACME's administrator cannot unlink BETA's member, nor can BETA's
	// administrator unlink ACME's.
	if _, err := svc.UnlinkMember(ctx, admin, acme.ID, betaMember, "nk-ships"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unlink of another org's login ID: %v", err)
	}
	if _, err := svc.UnlinkMember(ctx, betaAdmin, acme.ID, member, "nk-ships"); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("unlink by another org's admin: %v", err)
	}
	if links, _ := d.ListLegacyLinksByUser(ctx, betaMember); len(links) != 1 {
		t.Fatal("a refused unlink changed something")
	}
	gone, err := svc.UnlinkMember(ctx, admin, acme.ID, member, "nk-ships")
	if err != nil || gone.LoginID != "NKS-A" {
		t.Fatalf("unlink: %+v, %v", gone, err)
	}
	if links, _ := d.ListLegacyLinksByUser(ctx, member); len(links) != 0 {
		t.Fatal("still linked after unlink")
	}
	evs, err := d.ListAudit(ctx, store.AuditFilter{OrgID: acme.ID, Kinds: []string{legacy.AuditLinked, legacy.AuditUnlinked}})
	if err != nil || len(evs) != 2 || evs[0].ActorID != admin || evs[1].ActorID != admin {
		t.Fatalf("audit: %+v, %v", evs, err)
	}
}
