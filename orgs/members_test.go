package orgs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func TestAllowedMatrix(t *testing.T) {
	const y, n = true, false
	roles := []store.Role{store.RoleAdministrator, store.RoleNormal, store.RoleVisitor, ""}
	// want[action] is the row of the matrix, by role as above; edit_user
	// is given for another person (self is always allowed).
	want := map[orgs.Action][4]bool{
		orgs.ActSignIn:        {y, y, y, n},
		orgs.ActApplyService:  {y, n, n, n},
		orgs.ActManageMembers: {y, n, n, n},
		orgs.ActEditUser:      {y, n, n, n},
		orgs.ActOperate:       {n, n, n, n},
		"unknown":             {n, n, n, n},
	}
	for action, row := range want {
		for i, r := range roles {
			if got := orgs.Allowed(r, action, false); got != row[i] {
				t.Errorf("Allowed(%q, %s, other) = %v, want %v", r, action, got, row[i])
			}
		}
	}
	for _, r := range roles {
		if !orgs.Allowed(r, orgs.ActEditUser, true) {
			t.Errorf("%q may not edit their own information", r)
		}
	}
}

// Every administrative operation, as each kind of actor, in both
// organizations: only administrators of that organization and operators
// get through the authorization (the operation may then fail for other
// reasons, never with Forbidden).
func TestAuthorizationEveryOperation(t *testing.T) {
	ctx := context.Background()
	ops := map[string]func(e *env, a orgs.Actor, org string) error{
		"ListMembers": func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.ListMembers(ctx, a, org, orgs.MemberQuery{})
			return err
		},
		"GetMember": func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.GetMember(ctx, a, org, "nora")
			return err
		},
		"ChangeRole": func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.ChangeRole(ctx, a, org, "nora", store.RoleNormal)
			return err
		},
		"RemoveMember": func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.RemoveMember(ctx, a, org, "nora", orgs.RemoveOptions{})
			return err
		},
		"History": func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.History(ctx, a, org, orgs.HistoryQuery{})
			return err
		},
		"EditOtherUser": func(e *env, a orgs.Actor, org string) error {
			target := "nora"
			if a.UserID == "nora" {
				target = "vic" // nora may edit herself
			}
			return e.svc.Authorize(ctx, a, org, orgs.ActEditUser, target)
		},
		"ApplyService": func(e *env, a orgs.Actor, org string) error {
			return e.svc.Authorize(ctx, a, org, orgs.ActApplyService, "")
		},
	}
	for _, extra := range extraOperations() {
		ops[extra.name] = extra.fn
	}
	// Who may, per organization: A's administrators, B's administrator,
	// and the operator everywhere.
	allowed := map[string]map[string]bool{
		"orga": {"alice": true, "anna": true, "operator": true},
		"orgb": {"bob": true, "operator": true},
	}
	actors := map[string]orgs.Actor{"alice": p("alice"), "anna": p("anna"), "nora": p("nora"),
		"vic": p("vic"), "bob": p("bob"), "operator": orgs.Operator("test"), "nobody": p("")}
	// One store per operation: an allowed call may change what the next
	// one finds (a removed member is NotFound), never whether it is
	// forbidden, which is decided first.
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, sqliteBackend)
			for an, a := range actors {
				for _, org := range []string{"orga", "orgb"} {
					err := op(e, a, org)
					forbidden := apperr.CodeOf(err) == apperr.Forbidden
					if allowed[org][an] == forbidden {
						t.Errorf("%s in %s: allowed=%v, got %v", an, org, allowed[org][an], err)
					}
				}
			}
		})
	}
}

func TestChangeRoleKeepsAnAdministrator(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	m, err := e.svc.ChangeRole(ctx, p("alice"), e.orgA, "nora", "Visitor")
	must(t, err)
	if m.Role != store.RoleVisitor || e.role("nora", e.orgA) != store.RoleVisitor {
		t.Fatalf("role not changed: %+v", m)
	}
	_, err = e.svc.ChangeRole(ctx, p("alice"), e.orgA, "nora", "owner")
	wantCode(t, "unknown account type", err, apperr.Invalid)
	_, err = e.svc.ChangeRole(ctx, p("alice"), e.orgA, "ghost", store.RoleNormal)
	wantCode(t, "not a member", err, apperr.NotFound)

	_, err = e.svc.ChangeRole(ctx, p("alice"), e.orgA, "anna", store.RoleNormal)
	must(t, err)
	_, err = e.svc.ChangeRole(ctx, p("alice"), e.orgA, "alice", store.RoleNormal)
	wantCode(t, "demote the last administrator", err, apperr.LastAdministrator)
	_, err = e.svc.RemoveMember(ctx, p("alice"), e.orgA, "alice", orgs.RemoveOptions{})
	wantCode(t, "remove the last administrator", err, apperr.LastAdministrator)
	_, err = e.svc.RemoveMember(ctx, orgs.Operator("cli"), e.orgA, "alice", orgs.RemoveOptions{})
	wantCode(t, "operator removes the last administrator", err, apperr.LastAdministrator)
	if e.role("alice", e.orgA) != store.RoleAdministrator {
		t.Fatal("the last administrator changed")
	}
	// A demoted administrator can no longer manage.
	_, err = e.svc.ChangeRole(ctx, p("anna"), e.orgA, "anna", store.RoleAdministrator)
	wantCode(t, "demoted administrator", err, apperr.Forbidden)

	evs := e.audit(e.orgA)
	if len(evs) != 2 {
		t.Fatalf("audit: %d events, want 2 (one per change): %+v", len(evs), evs)
	}
	last := evs[0]
	if last.Kind != orgs.AuditMemberRoleChanged || last.ActorID != "alice" || last.UserID != "anna" ||
		last.Detail["from"] != "administrator" || last.Detail["to"] != "normal" {
		t.Fatalf("audit event: %+v", last)
	}
}

func TestRemoveMember(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	// nora is also in B: her account cannot be deleted from A.
	_, err := e.svc.RemoveMember(ctx, p("alice"), e.orgA, "nora", orgs.RemoveOptions{DeleteAccount: true})
	wantCode(t, "delete a shared account", err, apperr.Conflict)
	if e.role("nora", e.orgA) != store.RoleNormal {
		t.Fatal("a refused removal changed the membership")
	}
	r, err := e.svc.RemoveMember(ctx, p("alice"), e.orgA, "nora", orgs.RemoveOptions{})
	must(t, err)
	if r.AccountDeleted || e.role("nora", e.orgA) != "" || e.role("nora", e.orgB) != store.RoleVisitor {
		t.Fatalf("removal: %+v", r)
	}
	r, err = e.svc.RemoveMember(ctx, p("alice"), e.orgA, "vic", orgs.RemoveOptions{DeleteAccount: true})
	must(t, err)
	if !r.AccountDeleted {
		t.Fatal("account not deleted")
	}
	if _, err := e.st.GetUser(ctx, "vic"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("vic's account: %v", err)
	}
	evs := e.audit(e.orgA)
	if len(evs) != 2 || evs[0].Detail["account_deleted"] != "true" || evs[0].ActorID != "alice" || evs[0].UserID != "vic" {
		t.Fatalf("audit: %+v", evs)
	}
	_, err = e.svc.RemoveMember(ctx, p("alice"), e.orgA, "vic", orgs.RemoveOptions{})
	wantCode(t, "remove again", err, apperr.NotFound)
}

func TestAddMemberOperatorOnly(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	_, err := e.svc.AddMember(ctx, p("bob"), e.orgB, "vic", store.RoleNormal)
	wantCode(t, "administrator adds directly", err, apperr.Forbidden)
	_, err = e.svc.AddMember(ctx, orgs.Operator("cli"), e.orgB, "vic", store.RoleNormal)
	must(t, err)
	_, err = e.svc.AddMember(ctx, orgs.Operator("cli"), e.orgB, "vic", store.RoleNormal)
	wantCode(t, "twice", err, apperr.Conflict)
	_, err = e.svc.AddMember(ctx, orgs.Operator("cli"), e.orgB, "ghost", store.RoleNormal)
	wantCode(t, "missing account", err, apperr.NotFound)
	if evs := e.audit(e.orgB); len(evs) != 1 || evs[0].ActorID != "operator:cli" || evs[0].Kind != orgs.AuditMemberAdded {
		t.Fatalf("audit: %+v", evs)
	}
}

func TestListMembersPagingAndSearch(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	var got []string
	cursor := ""
	for range 10 {
		pg, err := e.svc.ListMembers(ctx, p("alice"), e.orgA, orgs.MemberQuery{Cursor: cursor, Limit: 3})
		must(t, err)
		for _, m := range pg.Members {
			got = append(got, m.UserID)
		}
		if cursor = pg.Next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(got) != "[alice anna nora vic]" {
		t.Fatalf("pages: %v", got)
	}
	pg, err := e.svc.ListMembers(ctx, p("alice"), e.orgA, orgs.MemberQuery{Search: "NOR"})
	must(t, err)
	if len(pg.Members) != 1 || pg.Members[0].Email != "nora@example.com" || pg.Members[0].Role != store.RoleNormal || pg.Next != "" {
		t.Fatalf("search: %+v", pg)
	}
	_, err = e.svc.ListMembers(ctx, p("alice"), e.orgA, orgs.MemberQuery{Cursor: "%%%"})
	wantCode(t, "bad cursor", err, apperr.Invalid)
}

func TestHistory(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	_, err := e.st.AppendAudit(ctx, store.AuditEvent{Kind: "signin.success", ActorID: "nora", UserID: "nora", Time: t0})
	must(t, err)
	_, err = e.st.AppendAudit(ctx, store.AuditEvent{Kind: "signin.success", ActorID: "bob", UserID: "bob", Time: t0})
	must(t, err)
	e.clk.Advance(time.Hour)
	_, err = e.svc.ChangeRole(ctx, p("alice"), e.orgA, "vic", store.RoleNormal)
	must(t, err)
	_, err = e.svc.ChangeRole(ctx, p("bob"), e.orgB, "nora", store.RoleNormal)
	must(t, err)

	pg, err := e.svc.History(ctx, p("alice"), e.orgA, orgs.HistoryQuery{})
	must(t, err)
	if len(pg.Events) != 2 || pg.Events[0].Kind != orgs.AuditMemberRoleChanged || pg.Events[1].UserID != "nora" {
		t.Fatalf("A's history: %+v", pg.Events)
	}
	pg, err = e.svc.History(ctx, p("alice"), e.orgA, orgs.HistoryQuery{Limit: 1})
	must(t, err)
	if len(pg.Events) != 1 || pg.Next == 0 {
		t.Fatalf("paged: %+v", pg)
	}
	pg, err = e.svc.History(ctx, p("alice"), e.orgA, orgs.HistoryQuery{Before: pg.Next})
	must(t, err)
	if len(pg.Events) != 1 || pg.Events[0].Kind != "signin.success" || pg.Next != 0 {
		t.Fatalf("page 2: %+v", pg)
	}
	pg, _ = e.svc.History(ctx, p("alice"), e.orgA, orgs.HistoryQuery{Person: "vic"})
	if len(pg.Events) != 1 || pg.Events[0].UserID != "vic" {
		t.Fatalf("person filter: %+v", pg.Events)
	}
	pg, _ = e.svc.History(ctx, p("alice"), e.orgA, orgs.HistoryQuery{Until: t0.Add(time.Minute)})
	if len(pg.Events) != 1 || pg.Events[0].Kind != "signin.success" {
		t.Fatalf("time filter: %+v", pg.Events)
	}
	pg, _ = e.svc.History(ctx, p("alice"), e.orgA, orgs.HistoryQuery{Kinds: []string{orgs.AuditMemberRoleChanged}})
	if len(pg.Events) != 1 {
		t.Fatalf("kind filter: %+v", pg.Events)
	}
	_, err = e.svc.History(ctx, p("alice"), e.orgA, orgs.HistoryQuery{Since: t0, Until: t0})
	wantCode(t, "empty period", err, apperr.Invalid)
}

// 200 demotions at once in an organization of two administrators, each
// administrator demoting the other or themselves: one administrator is
// left, on every durable backend.
func TestConcurrentDemotions(t *testing.T) {
	for name, open := range durableBackends {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open)
			ctx := context.Background()
			const n = 200
			errs := storetest.Together(n, func(i int) error {
				actor, target := []string{"alice", "anna"}[i%2], []string{"alice", "anna"}[(i/2)%2]
				_, err := e.svc.ChangeRole(ctx, p(actor), e.orgA, target, store.RoleNormal)
				return err
			})
			ok := 0
			for _, err := range errs {
				switch apperr.CodeOf(err) {
				case "":
					ok++
				case apperr.LastAdministrator, apperr.Forbidden:
				default:
					t.Fatalf("unexpected error: %v", err)
				}
			}
			admins := 0
			for _, u := range []string{"alice", "anna"} {
				if e.role(u, e.orgA) == store.RoleAdministrator {
					admins++
				}
			}
			if admins != 1 || ok == 0 {
				t.Fatalf("%d demotions: %d succeeded, %d administrators left; want 1 left", n, ok, admins)
			}
		})
	}
}
