package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// route is one console page or POST, in an organization, on a member of
// it (every harmless for an administrator: a refusal or a no-op).
type route struct {
	method, path string
	form         url.Values
}

func routes(code, member string) []route {
	base := "/console/" + code
	return []route{
		{"GET", base, nil},
		{"GET", base + "/members", nil},
		{"GET", base + "/members?q=Person", nil},
		{"GET", base + "/members/" + member + "/remove", nil},
		{"GET", base + "/invitations", nil},
		{"GET", base + "/history", nil},
		{"GET", base + "/history?kind=members", nil},
		{"GET", base + "/applications", nil},
		{"GET", base + "/security", nil},
		{"GET", base + "/legacy", nil},
		{"POST", base + "/members/" + member + "/role", url.Values{"role": {"normal"}}},
		{"POST", base + "/members/nobody/remove", url.Values{}},
		{"POST", base + "/members/" + member + "/mfa-reset", url.Values{}},
		{"POST", base + "/invitations", url.Values{"email": {"not-an-address"}, "role": {"normal"}}},
		{"POST", base + "/invitations/nope/resend", url.Values{}},
		{"POST", base + "/invitations/nope/cancel", url.Values{}},
		{"POST", base + "/applications", url.Values{"service": {"no-such-service"}}},
		{"POST", base + "/security", url.Values{"require_mfa": {"0"}}},
		{"POST", base + "/legacy/link", url.Values{"email": {"nobody@example.com"}, "login": {"nk-ships X"}}},
		{"POST", base + "/legacy/unlink", url.Values{"user": {member}, "service": {"nk-ships"}}},
	}
}

// Every console page and POST × actor × organization: only the
// organization's administrators get anything but 403, and no body shows
// another organization's people.
func TestConsoleAuthorizationMatrix(t *testing.T) {
	for _, b := range hubtest.Backends() {
		t.Run(b, func(t *testing.T) { authorizationMatrix(t, newWorldOn(t, b)) })
	}
}

func authorizationMatrix(t *testing.T, w *world) {
	admins := map[string]map[string]bool{ // actor → org codes administered
		adminA: {"ORGA": true}, normalA: {}, visitorA: {}, adminB: {"ORGB": true}, both: {"ORGB": true},
		adminAB: {"ORGA": true, "ORGB": true},
	}
	// People only in one organization: their addresses must never show in
	// the other's pages.
	// (adminAB and both are in both: they may appear in either.)
	only := map[string][]string{"ORGA": {email(adminA), email(normalA), email(visitorA), email(memberA)},
		"ORGB": {email(adminB), email(memberB)}}
	members := map[string]string{"ORGA": w.users[memberA].ID, "ORGB": w.users[memberB].ID, "NOSUCHORG": w.users[memberA].ID}
	for actor, administered := range admins {
		c := w.as(t, actor)
		for _, code := range []string{"ORGA", "ORGB", "NOSUCHORG"} {
			other := map[string]string{"ORGA": "ORGB", "ORGB": "ORGA"}[code]
			for _, rt := range routes(code, members[code]) {
				name := fmt.Sprintf("%s %s %s", actor, rt.method, rt.path)
				var pg page
				if rt.method == "GET" {
					pg = c.get(rt.path)
				} else {
					pg = c.post(rt.path, rt.form)
				}
				allowed := administered[code]
				switch {
				case !allowed && pg.status != http.StatusForbidden:
					t.Errorf("%s = %d, want 403", name, pg.status)
				case allowed && rt.method == "GET" && pg.status != http.StatusOK:
					t.Errorf("%s = %d, want 200", name, pg.status)
				case allowed && (pg.status == http.StatusForbidden || pg.status >= 500):
					t.Errorf("%s = %d, want a page or a redirect", name, pg.status)
				}
				leak := append([]string{}, only[other]...)
				if !allowed {
					leak = append(leak, only[code]...)
				}
				for _, addr := range leak {
					// The viewer's own address is in their avatar menu.
					if addr != email(actor) && strings.Contains(pg.body, addr) {
						t.Errorf("%s shows %s", name, addr)
					}
				}
			}
		}
		// The list shows the organizations administered, and only those.
		pg := c.get("/console/")
		if len(administered) == 0 {
			if pg.status != http.StatusForbidden {
				t.Errorf("%s /console/ = %d, want 403", actor, pg.status)
			}
		} else {
			for _, code := range []string{"ORGA", "ORGB"} {
				if strings.Contains(pg.body, "/console/"+code+"/") != administered[code] {
					t.Errorf("%s /console/ lists %s: %v", actor, code, !administered[code])
				}
			}
		}
	}
	// Nothing a refused request asked for happened.
	for _, o := range []store.Organization{w.orgA, w.orgB} {
		if invs, _ := w.env.Durable.ListInvitationsByOrg(t.Context(), o.ID); len(invs) != 0 {
			t.Errorf("%s has invitations: %+v", o.Code, invs)
		}
	}
	// Without a session: the sign-in page, for every route.
	anon := w.anonymous(t)
	for _, rt := range routes("ORGA", members["ORGA"]) {
		if rt.method == "GET" {
			if pg := anon.get(rt.path); pg.status != http.StatusSeeOther || !strings.HasPrefix(pg.location, "/signin") {
				t.Errorf("anonymous %s = %d %s", rt.path, pg.status, pg.location)
			}
		}
	}
}

// The home page links to the console for administrators only.
func TestHomeLinksConsoleForAdministrators(t *testing.T) {
	w := newWorld(t)
	for name, want := range map[string]bool{adminA: true, both: true, normalA: false, visitorA: false} {
		pg := w.as(t, name).get("/")
		if got := strings.Contains(pg.body, `href="/console/"`); got != want {
			t.Errorf("%s: console link %v, want %v", name, got, want)
		}
	}
}
