package idp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

// TestTwoStepAccountPageRecentSignInAndFewCodes: setting two-step
// verification up needs a sign-in of the last 10 minutes, else the
// password again (a missing or wrong one starts nothing); the account page
// warns when 2 or fewer recovery codes are left, not before.
func TestTwoStepAccountPageRecentSignInAndFewCodes(t *testing.T) {
	clk := &hubtest.Clock{}
	env, _, _, u, b := signedInOnTheHub(t, func(o *hubtest.Options) { o.Now = clk.Now })
	ctx := context.Background()
	_, codes := enrollOnAccountPage(t, b)

	page := func() string {
		t.Helper()
		resp := b.get(b.url("/account/mfa"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("account MFA page: %s", resp.Status)
		}
		return body(t, resp)
	}
	const few = "You have few recovery codes left"
	for i := range 7 {
		if _, err := env.Server.TwoStep().VerifySignIn(ctx, u.ID, codes[i], mfa.Meta{ActorID: u.ID}); err != nil {
			t.Fatalf("recovery code %d: %v", i, err)
		}
	}
	if html := page(); !strings.Contains(html, "3 recovery codes left") || strings.Contains(html, few) {
		t.Fatalf("3 codes left: want no warning:\n%s", html)
	}
	if _, err := env.Server.TwoStep().VerifySignIn(ctx, u.ID, codes[7], mfa.Meta{ActorID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if html := page(); !strings.Contains(html, "2 recovery codes left") || !strings.Contains(html, few) {
		t.Fatalf("2 codes left: want the warning:\n%s", html)
	}

	// Eleven minutes after the sign-in: the password again.
	clk.Advance(11 * time.Minute)
	if html := page(); !strings.Contains(html, `id="current-setup"`) {
		t.Fatalf("no password asked for a setup 11 minutes after the sign-in:\n%s", html)
	}
	for _, pw := range []string{"", "not the password"} {
		resp := b.post(b.url("/account/mfa/setup"), url.Values{"current": {pw}})
		html := body(t, resp)
		if resp.StatusCode < 400 || strings.Contains(html, `id="mfa-key"`) || !strings.Contains(html, `id="current-setup"`) {
			t.Fatalf("setup with password %q: %s at %s", pw, resp.Status, resp.Request.URL)
		}
	}
	if resp := b.get(b.url("/account/mfa/setup")); strings.Contains(body(t, resp), `id="mfa-key"`) {
		t.Fatal("a refused setup left a pending secret")
	}
	resp := b.post(b.url("/account/mfa/setup"), url.Values{"current": {testPassword}})
	if html := body(t, resp); path(resp) != "/account/mfa/setup" || !strings.Contains(html, `id="mfa-key"`) {
		t.Fatalf("setup with the password: %s at %s", resp.Status, resp.Request.URL)
	}
	// The password counts as a fresh sign-in for the next 10 minutes.
	if html := page(); strings.Contains(html, `id="current-setup"`) {
		t.Fatal("password asked again right after it was given")
	}
}

// TestTwoStepRememberedForTheSession: with "Automatically sign in" the
// second step's result lasts as long as the session: 13 days later the
// same browser gets a code for a service without the password or the
// code being asked, while a new browser gets both steps.
func TestTwoStepRememberedForTheSession(t *testing.T) {
	clk := &hubtest.Clock{}
	env, ships, pass, u, b := signedInOnTheHub(t, func(o *hubtest.Options) { o.Now = clk.Now })
	key, _ := enrollOnAccountPage(t, b)

	b2 := newBrowser(t, env)
	f := b2.authorize(ships)
	b2.signIn(f, u.Email, testPassword, true)
	if path(f.resp) != "/login/mfa" {
		t.Fatalf("after the password: %s, want the second step", f.resp.Request.URL)
	}
	id := f.resp.Request.URL.Query().Get("authRequestID")
	f.resp = b2.post(b2.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {totpAt(t, key, 1)}})
	f.code(t)

	clk.Advance(13 * 24 * time.Hour)
	f = b2.authorize(pass)
	if f.authRequestID() != "" || (f.resp.Request != nil && f.resp.Request.URL.Path == "/login/mfa") {
		t.Fatalf("13 days later the remembered session was asked again: %s", f.resp.Request.URL)
	}
	f.code(t)

	b3 := newBrowser(t, env)
	toSecondStep(t, b3, ships, u.Email)
}

// TestTwoStepRegenerateCodesAndTurnOffOnAccountPage: Generate new
// recovery codes shows 10 new ones and the old ones stop working; turning
// two-step verification off needs the password and a current code (either
// wrong changes nothing), and then the next sign-in has no second step.
func TestTwoStepRegenerateCodesAndTurnOffOnAccountPage(t *testing.T) {
	env, ships, _, u, b := signedInOnTheHub(t)
	ctx := context.Background()
	key, old := enrollOnAccountPage(t, b)

	resp := b.post(b.url("/account/mfa/codes"), url.Values{})
	var fresh []string
	for _, m := range codesRe.FindAllStringSubmatch(body(t, resp), -1) {
		fresh = append(fresh, m[1])
	}
	if len(fresh) != 10 {
		t.Fatalf("%d new recovery codes shown", len(fresh))
	}
	meta := mfa.Meta{ActorID: u.ID}
	if _, err := env.Server.TwoStep().VerifySignIn(ctx, u.ID, old[0], meta); err == nil {
		t.Fatal("an old recovery code still works after regenerating")
	}
	if _, err := env.Server.TwoStep().VerifySignIn(ctx, u.ID, fresh[0], meta); err != nil {
		t.Fatalf("a new recovery code: %v", err)
	}

	enabled := func() bool {
		st, err := env.Server.TwoStep().Status(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return st.Enabled
	}
	for _, form := range []url.Values{
		{"current": {"not the password"}, "code": {totpAt(t, key, 1)}},
		{"current": {testPassword}, "code": {wrongCode(t, key)}},
		{"current": {testPassword}},
	} {
		resp := b.post(b.url("/account/mfa/off"), form)
		if drain(resp); resp.StatusCode < 400 || !enabled() {
			t.Fatalf("turned off with %v: %s", form, resp.Status)
		}
	}
	resp = b.post(b.url("/account/mfa/off"), url.Values{"current": {testPassword}, "code": {totpAt(t, key, 1)}})
	if drain(resp); resp.StatusCode != http.StatusOK || enabled() {
		t.Fatalf("turn off with the password and a current code: %s, enabled %v", resp.Status, enabled())
	}
	b2 := newBrowser(t, env)
	f := b2.authorize(ships)
	b2.signIn(f, u.Email, testPassword, false)
	f.code(t)
}

// signedInOnTheHub is setup's hubid with a browser signed in (password
// only) as its user.
func signedInOnTheHub(t *testing.T, adjust ...func(*hubtest.Options)) (*hubtest.Env, *rp, *rp, store.User, *browser) {
	t.Helper()
	env, ships, pass, u := setup(t, "embedded", adjust...)
	b := newBrowser(t, env)
	f := b.authorize(ships)
	b.signIn(f, u.Email, testPassword, false)
	f.code(t)
	return env, ships, pass, u, b
}
