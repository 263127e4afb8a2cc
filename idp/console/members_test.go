package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// The last administrator cannot be demoted or removed: the page says so
// (in the reader's language) and nothing changes.
func TestLastAdministratorMessage(t *testing.T) {
	w := newWorld(t)
	if _, err := w.env.Durable.RemoveMembership(t.Context(), w.users[adminAB].ID, w.orgA.ID); err != nil {
		t.Fatal(err)
	}
	admin := w.as(t, adminA)
	self := "/console/ORGA/members/" + w.users[adminA].ID
	expect(t, "demote self", admin.post(self+"/role", url.Values{"role": {"normal"}}), http.StatusConflict,
		"The organization must keep an administrator")
	expect(t, "remove self", admin.post(self+"/remove", url.Values{}), http.StatusConflict,
		"The organization must keep an administrator")
	admin.get("/?lang=ja")
	expect(t, "demote self (ja)", admin.post(self+"/role", url.Values{"role": {"visitor"}}), http.StatusConflict,
		"組織には管理者が必要です")
	if w.roleIn(t, email(adminA), w.orgA) != store.RoleAdministrator {
		t.Fatal("the last administrator lost the role")
	}
	// With a second administrator the first may step down.
	member := "/console/ORGA/members/" + w.users[memberA].ID
	if pg := admin.post(member+"/role", url.Values{"role": {"administrator"}}); pg.status != http.StatusSeeOther {
		t.Fatalf("promote: %d", pg.status)
	}
	if pg := admin.post(self+"/role", url.Values{"role": {"normal"}}); pg.status != http.StatusSeeOther {
		t.Fatalf("step down: %d", pg.status)
	}
	if w.roleIn(t, email(adminA), w.orgA) != store.RoleNormal {
		t.Fatal("role after stepping down")
	}
	// Now a normal user: the console is closed to them.
	if pg := admin.get("/console/ORGA/members"); pg.status != http.StatusForbidden {
		t.Fatalf("console after stepping down: %d", pg.status)
	}
}

// Removing a member; deleting the account only when it belongs to no
// other organization and the administrator ticked it.
func TestRemoveMemberAndDeleteAccount(t *testing.T) {
	w := newWorld(t)
	admin := w.as(t, adminA)
	both := w.users[both]
	expect(t, "confirmation page", admin.get("/console/ORGA/members/"+both.ID+"/remove"), http.StatusOK, `name="delete_account"`)
	expect(t, "delete an account of two orgs", admin.post("/console/ORGA/members/"+both.ID+"/remove",
		url.Values{"delete_account": {"1"}}), http.StatusConflict, "belongs to another organization")
	if w.roleIn(t, both.Email, w.orgA) != store.RoleNormal {
		t.Fatal("a refused removal removed the member")
	}
	if pg := admin.post("/console/ORGA/members/"+both.ID+"/remove", url.Values{}); !strings.Contains(pg.location, "console.done.removed") {
		t.Fatalf("remove: %d %s", pg.status, pg.location)
	}
	if w.roleIn(t, both.Email, w.orgA) != "" || w.roleIn(t, both.Email, w.orgB) != store.RoleAdministrator {
		t.Fatal("memberships after removal")
	}
	m := w.users[memberA]
	if pg := admin.post("/console/ORGA/members/"+m.ID+"/remove", url.Values{"delete_account": {"1"}}); !strings.Contains(pg.location, "console.done.deleted") {
		t.Fatalf("remove and delete: %d %s", pg.status, pg.location)
	}
	w.noAccount(t, m.Email)
	// The history names who did it.
	pg := admin.get("/console/ORGA/history?kind=members")
	if !strings.Contains(pg.body, "Member removed") || !strings.Contains(pg.body, email(adminA)) {
		t.Fatalf("history:\n%s", pg.body)
	}
}

// Members list: search and paging; two-step verification status, reset
// (mailed, in the history) and the organization's policy.
func TestMembersSearchPagingAndTwoStep(t *testing.T) {
	w := newWorld(t)
	for i := range 30 {
		w.env.AddUser(t, hubtestUser(i))
	}
	admin := w.as(t, adminA)
	pg := admin.get("/console/ORGA/members")
	if pg.status != 200 || !strings.Contains(pg.body, `rel="next"`) {
		t.Fatalf("first page: %d", pg.status)
	}
	next := nextRe.FindStringSubmatch(pg.body)
	if next == nil {
		t.Fatal("no next link")
	}
	pg2 := admin.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if pg2.status != 200 || !strings.Contains(pg2.body, "bulk29@example.com") || strings.Contains(pg.body, "bulk29@example.com") {
		t.Fatal("second page")
	}
	pg = admin.get("/console/ORGA/members?q=memberA")
	if !strings.Contains(pg.body, email(memberA)) || strings.Contains(pg.body, email(normalA)) {
		t.Fatal("search")
	}
	// Two-step verification: on for memberA; reset by the administrator.
	m := w.users[memberA]
	if err := w.env.Durable.PutTOTP(t.Context(), store.TOTPCredential{UserID: m.ID, Sealed: []byte("x"),
		ConfirmedAt: time.Now(), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if pg := admin.get("/console/ORGA/members?q=memberA"); !strings.Contains(pg.body, "/mfa-reset") {
		t.Fatal("no reset button for a member with two-step verification")
	}
	if pg := admin.post("/console/ORGA/members/"+m.ID+"/mfa-reset", nil); !strings.Contains(pg.location, "console.done.mfareset") {
		t.Fatalf("reset: %d %s", pg.status, pg.location)
	}
	if _, err := w.env.Durable.GetTOTP(t.Context(), m.ID); err == nil {
		t.Fatal("authenticator still there")
	}
	expect(t, "reset again", admin.post("/console/ORGA/members/"+m.ID+"/mfa-reset", nil), http.StatusConflict, "no two-step")
	// The policy.
	if pg := admin.post("/console/ORGA/security", url.Values{"require_mfa": {"1"}}); pg.status != http.StatusSeeOther {
		t.Fatalf("require: %d", pg.status)
	}
	if o, _ := w.env.Durable.GetOrganization(t.Context(), w.orgA.ID); !o.RequireMFA {
		t.Fatal("policy not on")
	}
	expect(t, "security page", admin.get("/console/ORGA/security"), http.StatusOK, "is required for this organization")
	pg = admin.get("/console/ORGA/history?kind=mfa")
	if !strings.Contains(pg.body, email(memberA)) || strings.Count(pg.body, email(adminA)) < 2 {
		t.Fatalf("two-step history:\n%s", pg.body)
	}
	// The member was mailed.
	msgs, err := w.env.Durable.ClaimOutbox(t.Context(), "mail", time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	mailed := false
	for _, msg := range msgs {
		mailed = mailed || strings.Contains(string(msg.Payload), m.Email)
	}
	if !mailed {
		t.Fatal("the member was not mailed")
	}
}
