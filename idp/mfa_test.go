package idp_test

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

var (
	keyRe   = regexp.MustCompile(`id="mfa-key">([^<]+)<`)
	codesRe = regexp.MustCompile(`<li><code>([^<]+)</code></li>`)
)

// totpAt computes a code as the person's phone does, from the key shown
// on the page, offset whole steps from now.
func totpAt(t *testing.T, key string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCode(strings.ReplaceAll(key, " ", ""), time.Now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pageKey(t *testing.T, html string) string {
	t.Helper()
	m := keyRe.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no key on the page:\n%s", html)
	}
	if !strings.Contains(html, `src="data:image/png;base64,`) || !strings.Contains(html, `autocomplete="one-time-code" inputmode="numeric"`) {
		t.Fatalf("setup page lacks the inline QR code or the one-time-code input:\n%s", html)
	}
	return m[1]
}

func path(r *http.Response) string { return r.Request.URL.Path }

// enrollOnAccountPage sets up two-step verification from account
// settings (a recent sign-in: no password asked) and returns the key and
// the recovery codes.
func enrollOnAccountPage(t *testing.T, b *browser) (string, []string) {
	t.Helper()
	resp := b.get(b.url("/account/mfa"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), `id="mfa-setup"`) {
		t.Fatalf("account MFA page: %s", resp.Status)
	}
	resp = b.post(b.url("/account/mfa/setup"), url.Values{})
	html := body(t, resp)
	if path(resp) != "/account/mfa/setup" {
		t.Fatalf("setup ended at %s", resp.Request.URL)
	}
	key := pageKey(t, html)
	resp = b.post(b.url("/account/mfa/verify"), url.Values{"code": {"000000"}})
	if html := body(t, resp); resp.StatusCode != http.StatusUnprocessableEntity && !strings.Contains(html, "mfa-activate") {
		t.Fatalf("wrong code at setup: %s", resp.Status)
	}
	resp = b.post(b.url("/account/mfa/verify"), url.Values{"code": {totpAt(t, key, 0)}})
	if html := body(t, resp); !strings.Contains(html, `id="mfa-activate"`) {
		t.Fatalf("after Verify: %s %s", resp.Status, resp.Request.URL)
	}
	resp = b.post(b.url("/account/mfa/activate"), url.Values{})
	var codes []string
	for _, m := range codesRe.FindAllStringSubmatch(body(t, resp), -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	resp = b.get(b.url("/account"))
	if html := body(t, resp); !strings.Contains(html, "On since") || !strings.Contains(html, "10 recovery codes left") {
		t.Fatalf("account page does not show the state:\n%s", html)
	}
	return key, codes
}

// toSecondStep signs in with the password and expects the second step.
func toSecondStep(t *testing.T, b *browser, r *rp, email string, opts ...oauth2.AuthCodeOption) (*flow, string) {
	t.Helper()
	f := b.authorize(r, opts...)
	b.signIn(f, email, testPassword, false)
	if path(f.resp) != "/login/mfa" {
		t.Fatalf("after the password: %s %s, want the second step", f.resp.Status, f.resp.Request.URL)
	}
	return f, f.resp.Request.URL.Query().Get("authRequestID")
}

func amrOf(claims map[string]any) string {
	var out []string
	for _, v := range claims["amr"].([]any) {
		out = append(out, v.(string))
	}
	return strings.Join(out, ",")
}

func TestTwoStepEndToEnd(t *testing.T) {
	for _, backend := range hubtest.Backends() {
		t.Run(backend, func(t *testing.T) { twoStepEndToEnd(t, backend) })
	}
}

func twoStepEndToEnd(t *testing.T, backend string) {
	env := hubtest.New(t, hubtest.Options{Backend: backend})
	r := newRP(t, env, "ships", "ships-secret", "SHIPS")
	alice := env.AddUser(t, hubtest.User{Email: "alice@example.com", Password: testPassword, Org: "NK0001", Service: "SHIPS"})

	// A password-only sign-in: pwd and the password acr.
	b1 := newBrowser(t, env)
	f := b1.authorize(r)
	b1.signIn(f, alice.Email, testPassword, false)
	_, _, claims := r.exchange(t, f, f.code(t))
	if amrOf(claims) != "pwd" || claims["acr"] != oidcstore.ACRPassword {
		t.Fatalf("password sign-in: amr %v acr %v", claims["amr"], claims["acr"])
	}

	key, codes := enrollOnAccountPage(t, b1)

	// Step-up: b1's session lacks the second step; acr_values asks for it.
	f = b1.authorize(r, oauth2.SetAuthURLParam("acr_values", oidcstore.ACRMFA))
	if path(f.resp) != "/login/mfa" {
		t.Fatalf("step-up: %s %s, want the second step", f.resp.Status, f.resp.Request.URL)
	}
	id := f.resp.Request.URL.Query().Get("authRequestID")
	drain(f.resp)
	next := totpAt(t, key, 1)
	f.resp = b1.post(b1.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {next[:3] + " " + next[3:]}})
	_, _, claims = r.exchange(t, f, f.code(t))
	if amrOf(claims) != "pwd,otp" || claims["acr"] != oidcstore.ACRMFA {
		t.Fatalf("step-up: amr %v acr %v", claims["amr"], claims["acr"])
	}
	// The session keeps the second step: SSO without asking again.
	f = b1.authorize(r)
	_, _, claims = r.exchange(t, f, f.code(t))
	if amrOf(claims) != "pwd,otp" {
		t.Fatalf("SSO after the step-up: amr %v", claims["amr"])
	}

	// Another browser: the same code again is refused (a replay).
	b2 := newBrowser(t, env)
	f, id = toSecondStep(t, b2, r, alice.Email)
	drain(f.resp)
	resp := b2.post(b2.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {next}})
	if path(resp) != "/login/mfa" || resp.Request.URL.Query().Get("e") != "signin.mfa.wrong" {
		t.Fatalf("replayed code: %s %s", resp.Status, resp.Request.URL)
	}
	drain(resp)
	// No session exists before the second step: the hub is not reachable.
	if resp := b2.get(b2.url("/account")); path(resp) == "/account" {
		t.Fatal("half-signed-in browser reached account settings")
	}
	// A recovery code works, once.
	f, id = toSecondStep(t, b2, r, alice.Email)
	drain(f.resp)
	f.resp = b2.post(b2.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {codes[0]}, "recovery": {"1"}})
	_, _, claims = r.exchange(t, f, f.code(t))
	if amrOf(claims) != "pwd,otp,kba" || claims["acr"] != oidcstore.ACRMFA {
		t.Fatalf("recovery code: amr %v acr %v", claims["amr"], claims["acr"])
	}
	b3 := newBrowser(t, env)
	f, id = toSecondStep(t, b3, r, alice.Email)
	drain(f.resp)
	resp = b3.post(b3.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {codes[0]}, "recovery": {"1"}})
	if resp.Request.URL.Query().Get("e") != "signin.mfa.wrong" {
		t.Fatalf("recovery code used twice: %s %s", resp.Status, resp.Request.URL)
	}
	drain(resp)

	// Reset by an operator: mailed, and the next sign-in offers setup.
	if err := env.Server.TwoStep().Reset(context.Background(), alice.ID, mfa.Meta{Operator: true}); err != nil {
		t.Fatal(err)
	}
	b4 := newBrowser(t, env)
	f, _ = toSecondStep(t, b4, r, alice.Email)
	if html := body(t, f.resp); !strings.Contains(html, `id="mfa-skip"`) || !strings.Contains(html, `id="mfa-key"`) {
		t.Fatalf("setup not offered after a reset:\n%s", html)
	}
}

func TestTwoStepForgotPasswordOffersSetup(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	r := newRP(t, env, "ships", "ships-secret", "SHIPS")
	bob := env.AddUser(t, hubtest.User{Email: "bob@example.com", Password: testPassword, Org: "NK0001", Service: "SHIPS"})
	b := newBrowser(t, env)
	f := b.authorize(r)
	b.signIn(f, bob.Email, testPassword, false)
	drain(f.resp)
	enrollOnAccountPage(t, b)
	resetPassword(t, env, b, bob.Email, "a brand new passphrase 42")
	b2 := newBrowser(t, env)
	f = b2.authorize(r)
	b2.signIn(f, bob.Email, "a brand new passphrase 42", false)
	if path(f.resp) != "/login/mfa" {
		t.Fatalf("after a password reset: %s, want setup offered", f.resp.Request.URL)
	}
	id := f.resp.Request.URL.Query().Get("authRequestID")
	if html := body(t, f.resp); !strings.Contains(html, `id="mfa-skip"`) {
		t.Fatalf("setup not offered:\n%s", html)
	}
	f.resp = b2.post(b2.url("/login/mfa/setup"), url.Values{"authRequestID": {id}, "action": {"skip"}})
	_, _, claims := r.exchange(t, f, f.code(t))
	if amrOf(claims) != "pwd" {
		t.Fatalf("after Not now: amr %v", claims["amr"])
	}
	if !mailed(t, env, bob.Email, "Two-step verification was removed") {
		t.Fatal("no removed-MFA mail")
	}
}

func TestTwoStepOrganizationPolicyForcesSetup(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	r := newRP(t, env, "ships", "ships-secret", "SHIPS")
	carol := env.AddUser(t, hubtest.User{Email: "carol@example.com", Password: testPassword, Org: "NK0002", Service: "SHIPS"})
	org, err := env.Durable.GetOrganizationByCode(context.Background(), "NK0002")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Server.TwoStep().SetOrgRequired(context.Background(), org.ID, true, mfa.Meta{Operator: true}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, env)
	f, id := toSecondStep(t, b, r, carol.Email)
	html := body(t, f.resp)
	if strings.Contains(html, `id="mfa-skip"`) {
		t.Fatal("required setup can be skipped")
	}
	key := pageKey(t, html)
	resp := b.post(b.url("/login/mfa/setup"), url.Values{"authRequestID": {id}, "action": {"skip"}})
	if resp.Request.URL.Query().Get("e") != "signin.mfa.required" {
		t.Fatalf("skip of a required setup: %s", resp.Request.URL)
	}
	drain(resp)
	resp = b.post(b.url("/login/mfa/setup"), url.Values{"authRequestID": {id}, "action": {"activate"}})
	if h := body(t, resp); strings.Contains(h, `id="mfa-codes"`) {
		t.Fatal("activated without a verified code")
	}
	resp = b.post(b.url("/login/mfa/setup"), url.Values{"authRequestID": {id}, "action": {"verify"}, "code": {totpAt(t, key, 0)}})
	if h := body(t, resp); !strings.Contains(h, `id="mfa-activate"`) {
		t.Fatalf("after Verify: %s", resp.Request.URL)
	}
	resp = b.post(b.url("/login/mfa/setup"), url.Values{"authRequestID": {id}, "action": {"activate"}})
	if h := body(t, resp); len(codesRe.FindAllString(h, -1)) != 10 {
		t.Fatalf("recovery codes not shown at activation:\n%s", h)
	}
	f.resp = b.post(b.url("/login/mfa/continue"), url.Values{"authRequestID": {id}})
	_, _, claims := r.exchange(t, f, f.code(t))
	if amrOf(claims) != "pwd,otp" {
		t.Fatalf("after forced setup: amr %v", claims["amr"])
	}
	// The next sign-in asks for a code of the new authenticator.
	b2 := newBrowser(t, env)
	f, id = toSecondStep(t, b2, r, carol.Email)
	drain(f.resp)
	f.resp = b2.post(b2.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {totpAt(t, key, 1)}})
	if _, _, claims = r.exchange(t, f, f.code(t)); amrOf(claims) != "pwd,otp" {
		t.Fatalf("TOTP sign-in: amr %v", claims["amr"])
	}
}

// TestTwoStepGuessingLocks: 1,000 random codes against one account, none
// accepted; the lock engages after the budget the password step uses (the
// right password spent one attempt of it), and then the password step is
// locked too.
func TestTwoStepGuessingLocks(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Config: func(c *config.Config) {
		c.Throttle.DelayAfter, c.Throttle.LockAfter = 19, 20 // one delay (1 s) just before the lock
	}})
	r := newRP(t, env, "ships", "ships-secret", "SHIPS")
	dave := env.AddUser(t, hubtest.User{Email: "dave@example.com", Password: testPassword, Org: "NK0001", Service: "SHIPS"})
	b := newBrowser(t, env)
	f := b.authorize(r)
	b.signIn(f, dave.Email, testPassword, false)
	drain(f.resp)
	key, _ := enrollOnAccountPage(t, b)

	b2 := newBrowser(t, env)
	_, id := toSecondStep(t, b2, r, dave.Email)
	valid := map[string]bool{}
	for s := -1; s <= 1; s++ {
		valid[totpAt(t, key, s)] = true
	}
	tried, locked := 0, -1
	deadline := time.Now().Add(20 * time.Second)
	// 1,000 codes; past them, more until the one-second delay before the
	// lock has run out and the lock engaged (bounded).
	for i := 0; i < 1000 || (locked < 0 && time.Now().Before(deadline)); i++ {
		code := fmt.Sprintf("%06d", rand.IntN(1_000_000))
		if valid[code] {
			continue
		}
		resp := b2.post(b2.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {code}})
		e := resp.Request.URL.Query().Get("e")
		drain(resp)
		switch {
		case path(resp) != "/login/mfa":
			t.Fatalf("code %d accepted: %s", i, resp.Request.URL)
		case e == "signin.mfa.wrong":
			tried++
		case e == "signin.locked" && locked < 0:
			locked = i
		case e == "signin.throttled" && locked < 0:
		case e != "signin.locked":
			t.Fatalf("code %d: %s", i, resp.Request.URL)
		}
	}
	if want := env.Config.Throttle.LockAfter - 1; tried != want || locked < 0 {
		t.Fatalf("%d codes checked before the lock (at %d), want %d: the password and the codes share one budget", tried, locked, want)
	}
	// The same lock holds at the password step.
	b3 := newBrowser(t, env)
	f = b3.authorize(r)
	b3.signIn(f, dave.Email, testPassword, false)
	if f.resp.Request.URL.Query().Get("e") != "signin.locked" {
		t.Fatalf("password step after the code lock: %s", f.resp.Request.URL)
	}
	drain(f.resp)
}

// mailed reports whether a mail to `to` whose payload contains subject
// is queued in the outbox.
func mailed(t *testing.T, env *hubtest.Env, to, subject string) bool {
	t.Helper()
	ms, err := env.Durable.ClaimOutbox(context.Background(), mail.OutboxKind, time.Now(), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if p := string(m.Payload); strings.Contains(p, to) && strings.Contains(p, subject) {
			return true
		}
	}
	return false
}

// resetPassword uses a password-reset link (made here as /forgot would
// mail it) through the reset page.
func resetPassword(t *testing.T, env *hubtest.Env, b *browser, email, pw string) {
	t.Helper()
	u, err := env.Durable.GetUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 32)
	_, _ = crand.Read(raw)
	sum := sha256.Sum256(raw)
	now := time.Now()
	if err := env.Durable.CreateOneTimeToken(context.Background(), store.OneTimeToken{
		Hash: base64.RawURLEncoding.EncodeToString(sum[:]), Kind: store.TokenPasswordReset, UserID: u.ID, Email: u.Email,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	resp := b.post(b.url("/reset"), url.Values{"token": {base64.RawURLEncoding.EncodeToString(raw)}, "password": {pw}, "confirm": {pw}})
	if path(resp) != "/reset/done" {
		t.Fatalf("reset: %s %s\n%s", resp.Status, resp.Request.URL, body(t, resp))
	}
	drain(resp)
}

// TestTwoStepReplayAcrossReplicas: two hubid instances on the same
// PostgreSQL and Redis; a code accepted by one is refused by the other.
func TestTwoStepReplayAcrossReplicas(t *testing.T) {
	a := hubtest.New(t, hubtest.Options{Backend: "external"})
	b := hubtest.New(t, hubtest.Options{ReplicaOf: a})
	ra := newRP(t, a, "ships", "ships-secret", "SHIPS")
	rb := &rp{env: b, client: ra.client, secret: ra.secret}
	rb.provider, rb.verifier, rb.oauth = providerFor(t, b, ra)
	erin := a.AddUser(t, hubtest.User{Email: "erin@example.com", Password: testPassword, Org: "NK0001", Service: "SHIPS"})
	ba := newBrowser(t, a)
	f := ba.authorize(ra)
	ba.signIn(f, erin.Email, testPassword, false)
	drain(f.resp)
	key, _ := enrollOnAccountPage(t, ba)
	code := totpAt(t, key, 1)

	b1 := newBrowser(t, a)
	f, id := toSecondStep(t, b1, ra, erin.Email)
	drain(f.resp)
	f.resp = b1.post(b1.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {code}})
	if _, _, claims := ra.exchange(t, f, f.code(t)); amrOf(claims) != "pwd,otp" {
		t.Fatalf("replica A: amr %v", claims["amr"])
	}
	b2 := newBrowser(t, b)
	f, id = toSecondStep(t, b2, rb, erin.Email)
	drain(f.resp)
	resp := b2.post(b2.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {code}})
	if path(resp) != "/login/mfa" || resp.Request.URL.Query().Get("e") != "signin.mfa.wrong" {
		t.Fatalf("replica B accepted the code replica A used: %s", resp.Request.URL)
	}
	drain(resp)
}

// providerFor is the relying party of r's client as seen at another
// replica (its own issuer URL in tests).
func providerFor(t *testing.T, env *hubtest.Env, r *rp) (*oidc.Provider, *oidc.IDTokenVerifier, *oauth2.Config) {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), env.URL)
	if err != nil {
		t.Fatal(err)
	}
	o := *r.oauth
	o.Endpoint = p.Endpoint()
	return p, p.Verifier(&oidc.Config{ClientID: r.client.ID}), &o
}
