package orgs_test

import (
	"context"
	"testing"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

func ptr[T any](v T) *T { return &v }

func TestOperatorOrganizationsAndServices(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	op := orgs.Operator("cli")
	_, err := e.svc.CreateOrganization(ctx, p("alice"), "C001", "Gamma")
	wantCode(t, "a person creates an organization", err, apperr.Forbidden)
	_, err = e.svc.CreateOrganization(ctx, op, "bad code!", "Gamma")
	wantCode(t, "bad code", err, apperr.Invalid)
	_, err = e.svc.CreateOrganization(ctx, op, "C001", " ")
	wantCode(t, "no name", err, apperr.Invalid)
	_, err = e.svc.CreateOrganization(ctx, op, "A001", "Again")
	wantCode(t, "taken code", err, apperr.Conflict)
	o, err := e.svc.CreateOrganization(ctx, op, " C001 ", "Gamma")
	must(t, err)
	if o.Code != "C001" || o.ID == "" {
		t.Fatalf("created: %+v", o)
	}
	o, err = e.svc.UpdateOrganization(ctx, op, o.ID, orgs.Update{Name: ptr("Gamma Ltd.")})
	must(t, err)
	if o.Name != "Gamma Ltd." || o.Code != "C001" {
		t.Fatalf("updated: %+v", o)
	}
	_, err = e.svc.UpdateOrganization(ctx, op, o.ID, orgs.Update{Code: ptr("B001")})
	wantCode(t, "update to a taken code", err, apperr.Conflict)
	_, err = e.svc.UpdateOrganization(ctx, op, o.ID, orgs.Update{})
	wantCode(t, "empty update", err, apperr.Invalid)
	_, err = e.svc.UpdateOrganization(ctx, op, "nope", orgs.Update{Name: ptr("x")})
	wantCode(t, "update missing", err, apperr.NotFound)
	got, err := e.svc.Organization(ctx, "C001")
	must(t, err)
	if got.ID != o.ID {
		t.Fatalf("by code: %+v", got)
	}

	v, err := e.svc.CreateService(ctx, op, "nk-new", "NK-NEW")
	must(t, err)
	must(t, e.svc.Entitle(ctx, op, o.ID, v.ID))
	must(t, e.svc.Entitle(ctx, op, o.ID, v.ID))
	err = e.svc.Entitle(ctx, op, o.ID, "ghost")
	wantCode(t, "entitle to a missing service", err, apperr.NotFound)
	svcs, err := e.svc.Entitlements(ctx, op, o.ID)
	must(t, err)
	if len(svcs) != 1 || svcs[0].Code != "nk-new" {
		t.Fatalf("entitlements: %+v", svcs)
	}
	_, err = e.svc.Entitlements(ctx, p("bob"), e.orgA)
	wantCode(t, "B's administrator reads A's services", err, apperr.Forbidden)
	must(t, e.svc.Unentitle(ctx, op, o.ID, v.ID))
	wantCode(t, "unentitle again", e.svc.Unentitle(ctx, op, o.ID, v.ID), apperr.NotFound)
	_, err = e.svc.UpdateService(ctx, op, v.ID, orgs.Update{Code: ptr("nk-pass")})
	wantCode(t, "service code taken", err, apperr.Conflict)
	must(t, e.svc.DeleteService(ctx, op, v.ID))
	wantCode(t, "delete service again", e.svc.DeleteService(ctx, op, v.ID), apperr.NotFound)
	must(t, e.svc.DeleteOrganization(ctx, op, o.ID))
	wantCode(t, "delete organization again", e.svc.DeleteOrganization(ctx, op, o.ID), apperr.NotFound)
	wantCode(t, "a person deletes", e.svc.DeleteOrganization(ctx, p("alice"), e.orgA), apperr.Forbidden)

	evs, err := e.st.ListAudit(ctx, store.AuditFilter{Involving: "operator:cli", Limit: 100})
	must(t, err)
	if len(evs) != 8 { // org created/updated/deleted, service created/deleted, granted twice, revoked
		t.Fatalf("audit: %d events", len(evs))
	}
}

func TestOperatorUsers(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	op := orgs.Operator("cli")
	a, err := e.svc.CreateUser(ctx, op, "Zed@Example.com", "Zed", true)
	must(t, err)
	if a.HasPassword || !a.EmailVerified || a.Email != "Zed@Example.com" {
		t.Fatalf("created: %+v", a)
	}
	_, err = e.svc.CreateUser(ctx, op, "zed@example.com", "Zed", false)
	wantCode(t, "taken email", err, apperr.Conflict)
	_, err = e.svc.CreateUser(ctx, p("alice"), "x@example.com", "X", false)
	wantCode(t, "a person creates an account", err, apperr.Forbidden)

	pg, err := e.svc.ListUsers(ctx, op, orgs.UserQuery{Limit: 4})
	must(t, err)
	if len(pg.Users) != 4 || pg.Next == "" {
		t.Fatalf("page: %+v", pg)
	}
	pg, err = e.svc.ListUsers(ctx, op, orgs.UserQuery{Cursor: pg.Next})
	must(t, err)
	if len(pg.Users) != 2 || pg.Users[1].Email != "Zed@Example.com" || pg.Next != "" {
		t.Fatalf("page 2: %+v", pg)
	}
	_, err = e.svc.AddMember(ctx, op, e.orgB, a.ID, store.RoleAdministrator)
	must(t, err)
	d, err := e.svc.FindUser(ctx, op, "zed@EXAMPLE.com")
	must(t, err)
	if d.Account.ID != a.ID || len(d.Memberships) != 1 || d.Memberships[0].Role != store.RoleAdministrator {
		t.Fatalf("found: %+v", d)
	}
	u, err := e.svc.UpdateUser(ctx, op, a.ID, orgs.UserUpdate{Name: ptr("Zed Z."), Disabled: ptr(true)})
	must(t, err)
	if u.Name != "Zed Z." || !u.Disabled {
		t.Fatalf("updated: %+v", u)
	}

	// bob is B's only other administrator: zed can go, then bob cannot.
	must(t, e.svc.DeleteUser(ctx, op, "zed@example.com"))
	wantCode(t, "delete the last administrator", e.svc.DeleteUser(ctx, op, "bob"), apperr.LastAdministrator)
	if e.role("bob", e.orgB) != store.RoleAdministrator {
		t.Fatal("a refused deletion removed a membership")
	}
	wantCode(t, "delete missing", e.svc.DeleteUser(ctx, op, "zed@example.com"), apperr.NotFound)
}
