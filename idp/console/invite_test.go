package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// invite invites addr into ORGA as role through the console.
func (w *world) invite(t *testing.T, admin *client, addr, role string) string {
	t.Helper()
	pg := admin.post("/console/ORGA/invitations", url.Values{"email": {addr}, "role": {role}})
	if pg.status != http.StatusSeeOther || !strings.Contains(pg.location, "console.done.invited") {
		t.Fatalf("invite %s: %d %s\n%s", addr, pg.status, pg.location, pg.body)
	}
	return w.mailedToken(t, addr)
}

func (w *world) noAccount(t *testing.T, addr string) {
	t.Helper()
	if _, err := w.env.Durable.GetUserByEmail(context.Background(), addr); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an account of %s exists: %v", addr, err)
	}
}

func (w *world) roleIn(t *testing.T, addr string, org store.Organization) store.Role {
	t.Helper()
	u, err := w.env.Durable.GetUserByEmail(context.Background(), addr)
	if err != nil {
		return ""
	}
	ms, err := w.env.Durable.ListMembershipsByUser(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.OrgID == org.ID {
			return m.Role
		}
	}
	return ""
}

func expect(t *testing.T, what string, pg page, status int, text string) {
	t.Helper()
	if pg.status != status || !strings.Contains(pg.body, text) {
		t.Fatalf("%s: %d, want %d with %q\n%s", what, pg.status, status, text, pg.body)
	}
}

// A new person invited through the console creates their account from
// the link; every bad link and the wrong account get a clear page and
// change nothing.
func TestInvitationLinks(t *testing.T) {
	w := newWorld(t)
	admin := w.as(t, adminA)
	const addr = "newcomer@example.com"
	tok := w.invite(t, admin, addr, "visitor")
	if pg := admin.get("/console/ORGA/invitations"); !strings.Contains(pg.body, addr) {
		t.Fatal("the pending invitation is not listed")
	}
	accept := "/invitations/accept?token="
	good := url.Values{"token": {tok}, "name": {"Newcomer"}, "password": {testPassword}, "confirm": {testPassword}}

	// Tampered.
	bad := tok[:len(tok)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(tok, "A")]
	anon := w.anonymous(t)
	expect(t, "tampered link", anon.get(accept+url.QueryEscape(bad)), http.StatusNotFound, "not valid")
	form := url.Values{"token": {bad}, "name": {"X"}, "password": {testPassword}, "confirm": {testPassword}}
	expect(t, "tampered accept", anon.post(accept, form), http.StatusNotFound, "not valid")
	w.noAccount(t, addr)

	// Opened while signed in as another account.
	expect(t, "wrong account", admin.get(accept+url.QueryEscape(tok)), http.StatusForbidden, "another account")
	expect(t, "wrong account accepts", admin.post(accept, url.Values{"token": {tok}}), http.StatusForbidden, "another account")
	w.noAccount(t, addr)

	// Resent: the old link dies.
	invs, _ := w.env.Durable.ListInvitationsByOrg(t.Context(), w.orgA.ID)
	if pg := admin.post("/console/ORGA/invitations/"+invs[0].ID+"/resend", nil); pg.status != http.StatusSeeOther {
		t.Fatalf("resend: %d\n%s", pg.status, pg.body)
	}
	expect(t, "replaced link", anon.get(accept+url.QueryEscape(tok)), http.StatusNotFound, "not valid")
	tok = w.mailedToken(t, addr)
	good.Set("token", tok)

	// The form, then refusals of what the person typed.
	expect(t, "new person's form", anon.get(accept+url.QueryEscape(tok)), http.StatusOK, `name="password"`)
	mismatch := url.Values{"token": {tok}, "name": {"Newcomer"}, "password": {testPassword}, "confirm": {"other"}}
	expect(t, "mismatch", anon.post(accept, mismatch), http.StatusBadRequest, "differ")
	weak := url.Values{"token": {tok}, "name": {"Newcomer"}, "password": {"password"}, "confirm": {"password"}}
	if pg := anon.post(accept, weak); pg.status != http.StatusBadRequest {
		t.Fatalf("weak password: %d", pg.status)
	}
	w.noAccount(t, addr)

	expect(t, "accept", anon.post(accept, good), http.StatusOK, "Sign in with your email")
	u, err := w.env.Durable.GetUserByEmail(t.Context(), addr)
	if err != nil || !u.EmailVerified || u.Name != "Newcomer" || w.roleIn(t, addr, w.orgA) != store.RoleVisitor {
		t.Fatalf("after accepting: %+v, %v, role %q", u, err, w.roleIn(t, addr, w.orgA))
	}
	// Reused.
	expect(t, "reused link", anon.get(accept+url.QueryEscape(tok)), http.StatusGone, "accepted already")
	expect(t, "reused accept", anon.post(accept, good), http.StatusGone, "accepted already")
	// The new person signs in with the password they chose.
	w.anonymous(t).signIn(addr, testPassword)

	// Cancelled.
	const other = "cancelled@example.com"
	tok2 := w.invite(t, admin, other, "normal")
	invs, _ = w.env.Durable.ListInvitationsByOrg(t.Context(), w.orgA.ID)
	for _, i := range invs {
		if i.Email == other {
			if pg := admin.post("/console/ORGA/invitations/"+i.ID+"/cancel", nil); pg.status != http.StatusSeeOther {
				t.Fatalf("cancel: %d", pg.status)
			}
		}
	}
	expect(t, "cancelled link", anon.get(accept+url.QueryEscape(tok2)), http.StatusGone, "cancelled")
	good.Set("token", tok2)
	expect(t, "cancelled accept", anon.post(accept, good), http.StatusGone, "cancelled")
	w.noAccount(t, other)

	// Expired (7 days).
	const late = "late@example.com"
	tok3 := w.invite(t, admin, late, "normal")
	w.clock.Advance(orgs.InvitationTTL + time.Minute)
	expect(t, "expired link", anon.get(accept+url.QueryEscape(tok3)), http.StatusGone, "expired")
	good.Set("token", tok3)
	expect(t, "expired accept", anon.post(accept, good), http.StatusGone, "expired")
	w.noAccount(t, late)
}

var signInLinkRe = regexp.MustCompile(`href="(/signin\?return=[^"]+)"`)

// An existing account signs in, then joins.
func TestInvitationExistingAccountSignsInAndJoins(t *testing.T) {
	w := newWorld(t)
	tok := w.invite(t, w.as(t, adminA), email(memberB), "normal")
	anon := w.anonymous(t)
	pg := anon.get("/invitations/accept?token=" + url.QueryEscape(tok))
	expect(t, "not signed in", pg, http.StatusOK, "/signin?return=")
	// Nobody signed in cannot accept for the account.
	anon.post("/invitations/accept", url.Values{"token": {tok}, "name": {"X"}, "password": {testPassword}, "confirm": {testPassword}})
	if w.roleIn(t, email(memberB), w.orgA) != "" {
		t.Fatal("joined without signing in")
	}
	link := signInLinkRe.FindStringSubmatch(pg.body)
	if link == nil {
		t.Fatal("no sign-in link")
	}
	// Signing in returns to the invitation.
	if back := anon.signInAt(link[1], email(memberB), testPassword); !strings.HasPrefix(back, "/invitations/accept?token=") {
		t.Fatalf("after signing in: %q", back)
	}
	expect(t, "signed in", anon.get("/invitations/accept?token="+url.QueryEscape(tok)), http.StatusOK, "Join the organization")
	expect(t, "join", anon.post("/invitations/accept", url.Values{"token": {tok}}), http.StatusOK, "You joined")
	if w.roleIn(t, email(memberB), w.orgA) != store.RoleNormal || w.roleIn(t, email(memberB), w.orgB) != store.RoleNormal {
		t.Fatal("memberships after joining")
	}
}

// Accepting one link many times at once gives exactly one membership.
func TestInvitationAcceptedConcurrently(t *testing.T) {
	for _, b := range hubtest.Backends() {
		t.Run(b, func(t *testing.T) { acceptConcurrently(t, newWorldOn(t, b)) })
	}
}

func acceptConcurrently(t *testing.T, w *world) {
	const addr = "racer@example.com"
	tok := w.invite(t, w.as(t, adminA), addr, "normal")
	form := url.Values{"token": {tok}, "name": {"Racer"}, "password": {testPassword}, "confirm": {testPassword}}
	const n = 20
	var wg sync.WaitGroup
	codes := make(chan int, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			resp, err := http.PostForm(w.env.URL+"/invitations/accept", form)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusGone, http.StatusConflict:
		default:
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d acceptances succeeded, want 1", ok)
	}
	members, err := w.env.Durable.ListMembers(t.Context(), store.MemberFilter{OrgID: w.orgA.ID, Query: "racer"})
	if err != nil || len(members) != 1 {
		t.Fatalf("memberships: %d, %v", len(members), err)
	}
}
