package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/orgs"
)

// "New application for NK service usage": apply, see it pending, then the
// operator's decision with its reason.
func TestServiceApplicationThroughConsole(t *testing.T) {
	w := newWorld(t)
	w.env.EnsureService(t, "nk-pass")
	admin := w.as(t, adminA)
	pg := admin.get("/console/ORGA/applications")
	if !strings.Contains(pg.body, `value="nk-pass"`) || strings.Contains(pg.body, `value="nk-ships"`) {
		t.Fatalf("services offered:\n%s", pg.body)
	}
	if pg := admin.post("/console/ORGA/applications", url.Values{"service": {"nk-pass"}, "note": {"please"}}); pg.status != http.StatusSeeOther {
		t.Fatalf("apply: %d\n%s", pg.status, pg.body)
	}
	expect(t, "second application", admin.post("/console/ORGA/applications", url.Values{"service": {"nk-pass"}}),
		http.StatusConflict, "pending application")
	expect(t, "pending", admin.get("/console/ORGA/applications"), http.StatusOK, "Pending")
	as, err := w.env.Server.Orgs.ListApplications(t.Context(), orgs.Operator("test"), orgs.ApplicationQuery{OrgID: w.orgA.ID})
	if err != nil || len(as) != 1 {
		t.Fatal(as, err)
	}
	if _, err := w.env.Server.Orgs.RejectApplication(t.Context(), orgs.Operator("test"), as[0].ID, "not this quarter"); err != nil {
		t.Fatal(err)
	}
	pg = admin.get("/console/ORGA/applications")
	if !strings.Contains(pg.body, "Rejected") || !strings.Contains(pg.body, "not this quarter") {
		t.Fatalf("decision not shown:\n%s", pg.body)
	}
	// B's administrator sees none of it.
	if pg := w.as(t, adminB).get("/console/ORGB/applications"); strings.Contains(pg.body, "not this quarter") {
		t.Fatal("another organization's application shown")
	}
}

// Login IDs: the administrator links one of the organization's login IDs
// to a member and unlinks it.
func TestLegacyLoginIDsThroughConsole(t *testing.T) {
	w := newWorld(t)
	csv := "login_id,org_code,org_name,password_hash,contact_email\nNKS-A,ORGA,ORGA Inc.,,\nNKS-B,ORGB,ORGB Inc.,,\n"
	if _, err := w.env.Server.Legacy().Import(t.Context(), "nk-ships", strings.NewReader(csv), legacy.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	admin := w.as(t, adminA)
	pg := admin.get("/console/ORGA/legacy")
	if !strings.Contains(pg.body, "NKS-A") || strings.Contains(pg.body, "NKS-B") {
		t.Fatalf("login IDs:\n%s", pg.body)
	}
	expect(t, "link another org's ID", admin.post("/console/ORGA/legacy/link", url.Values{"login": {"nk-ships NKS-B"},
		"email": {email(memberA)}}), http.StatusNotFound, "Choose one of the organization's login IDs")
	expect(t, "link to another org's person", admin.post("/console/ORGA/legacy/link", url.Values{"login": {"nk-ships NKS-A"},
		"email": {email(memberB)}}), http.StatusNotFound, "Choose one of the organization's login IDs")
	if pg := admin.post("/console/ORGA/legacy/link", url.Values{"login": {"nk-ships NKS-A"}, "email": {email(memberA)}}); pg.status != http.StatusSeeOther {
		t.Fatalf("link: %d\n%s", pg.status, pg.body)
	}
	if links, _ := w.env.Durable.ListLegacyLinksByUser(t.Context(), w.users[memberA].ID); len(links) != 1 {
		t.Fatal("not linked")
	}
	expect(t, "linked shown", admin.get("/console/ORGA/legacy"), http.StatusOK, email(memberA))
	if pg := admin.post("/console/ORGA/legacy/unlink", url.Values{"user": {w.users[memberA].ID}, "service": {"nk-ships"}}); pg.status != http.StatusSeeOther {
		t.Fatalf("unlink: %d", pg.status)
	}
	if links, _ := w.env.Durable.ListLegacyLinksByUser(t.Context(), w.users[memberA].ID); len(links) != 0 {
		t.Fatal("still linked")
	}
	expect(t, "history", admin.get("/console/ORGA/history?kind=legacy"), http.StatusOK, "Login ID unlinked")
}
