package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The organization's history shows its members' sign-ins and its
// administrative actions with who did them, filtered, and nothing of
// another organization; in Japanese too.
func TestOrganizationHistory(t *testing.T) {
	w := newWorld(t)
	w.as(t, normalA)
	w.as(t, memberB) // B's sign-in: never in A's history
	admin := w.as(t, adminA)
	w.invite(t, admin, "someone@example.com", "normal")

	pg := admin.get("/console/ORGA/history?kind=signin")
	if pg.status != 200 || !strings.Contains(pg.body, email(normalA)) || strings.Contains(pg.body, "Invitation sent") {
		t.Fatalf("sign-ins:\n%s", pg.body)
	}
	pg = admin.get("/console/ORGA/history?kind=members")
	if !strings.Contains(pg.body, "Invitation sent") || !strings.Contains(pg.body, "someone@example.com") ||
		!strings.Contains(pg.body, email(adminA)) || strings.Contains(pg.body, email(normalA)) {
		t.Fatalf("administrative events:\n%s", pg.body)
	}
	pg = admin.get("/console/ORGA/history?person=" + url.QueryEscape(email(normalA)))
	if !strings.Contains(pg.body, email(normalA)) || strings.Contains(pg.body, "Invitation sent") {
		t.Fatalf("by person:\n%s", pg.body)
	}
	for _, p := range []string{"/console/ORGA/history", "/console/ORGA/history?kind=signin"} {
		if pg := admin.get(p); strings.Contains(pg.body, email(memberB)) {
			t.Fatalf("%s shows B's member", p)
		}
	}
	expect(t, "bad dates", admin.get("/console/ORGA/history?from=2026-02-01&to=2026-01-01"), http.StatusUnprocessableEntity, "")
	admin.get("/?lang=ja")
	expect(t, "Japanese", admin.get("/console/ORGA/history"), http.StatusOK, "利用履歴")
}

// A cross-site POST to the console is refused before it reaches the
// service.
func TestConsoleRefusesCrossSitePosts(t *testing.T) {
	w := newWorld(t)
	admin := w.as(t, adminA)
	req, _ := http.NewRequest(http.MethodPost, w.env.URL+"/console/ORGA/invitations",
		strings.NewReader(url.Values{"email": {"x@example.com"}, "role": {"normal"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if pg := admin.do(req); pg.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", pg.status)
	}
	if invs, _ := w.env.Durable.ListInvitationsByOrg(t.Context(), w.orgA.ID); len(invs) != 0 {
		t.Fatal("a cross-site POST invited someone")
	}
}
