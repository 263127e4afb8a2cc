package idp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// orgWorld: Mika is a visitor of AA01 (entitled to svc-both and svc-a)
// and an administrator of BB02 (entitled to svc-both only); CC03 uses
// svc-both too, without Mika. Clients: "both" (svc-both), "aonly"
// (svc-a) and "sel" (svc-both, organization_selection: required), each
// asking for openid profile email roles offline_access.
type orgWorld struct {
	env               *hubtest.Env
	both, aonly, sel  *rp
	user              store.User
	orgA, orgB, orgC  store.Organization
	svcBoth, svcAOnly store.Service
}

const mikaEmail = "mika@example.com"

func newOrgWorld(t *testing.T, backend string) *orgWorld {
	t.Helper()
	ctx := context.Background()
	env := hubtest.New(t, hubtest.Options{Backend: backend})
	w := &orgWorld{env: env}
	w.svcBoth, w.svcAOnly = env.EnsureService(t, "svc-both"), env.EnsureService(t, "svc-a")
	now := time.Now()
	mk := func(id, code, name string, svcs ...store.Service) store.Organization {
		o := store.Organization{ID: id, Code: code, Name: name, CreatedAt: now}
		if err := env.Durable.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		for _, s := range svcs {
			if err := env.Durable.PutEntitlement(ctx, store.Entitlement{OrgID: id, ServiceID: s.ID, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	w.orgA = mk("org-aa01", "AA01", "Alpha Shipping", w.svcBoth, w.svcAOnly)
	w.orgB = mk("org-bb02", "BB02", "Beta Logistics", w.svcBoth)
	w.orgC = mk("org-cc03", "CC03", "Gamma Freight", w.svcBoth)
	w.user = env.AddUser(t, hubtest.User{Email: mikaEmail, Password: testPassword, Name: "Mika"})
	w.setRole(t, w.orgA, store.RoleVisitor)
	w.setRole(t, w.orgB, store.RoleAdministrator)
	scopes := []string{oidc.ScopeOpenID, "profile", "email", "roles", oidc.ScopeOfflineAccess}
	w.both = newRP(t, env, "both", "both-secret-0123456789-0123456789-abcd", "svc-both")
	w.aonly = newRP(t, env, "aonly", "aonly-secret-0123456789-0123456789-abc", "svc-a")
	w.sel = newRP(t, env, "sel", "sel-secret-0123456789-0123456789-abcdef", "svc-both")
	if _, err := env.Durable.UpdateClient(ctx, "sel", func(c *store.Client) error {
		c.OrganizationSelection = store.OrgSelectionRequired
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*rp{w.both, w.aonly, w.sel} {
		r.oauth.Scopes = scopes
	}
	return w
}

func (w *orgWorld) setRole(t *testing.T, o store.Organization, role store.Role) {
	t.Helper()
	err := w.env.Durable.PutMembership(context.Background(), store.Membership{UserID: w.user.ID, OrgID: o.ID, Role: role, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
}

// tokens is what one issue gave, decoded.
type tokens struct {
	tok                                 *oauth2.Token
	idToken, access, info, introspected map[string]any
}

// redeem exchanges the flow's code and decodes every view of the claims.
func (w *orgWorld) redeem(t *testing.T, r *rp, f *flow) tokens {
	t.Helper()
	tok, _, claims := r.exchange(t, f, f.code(t))
	return w.views(t, r, tok, claims)
}

func (w *orgWorld) views(t *testing.T, r *rp, tok *oauth2.Token, idClaims map[string]any) tokens {
	t.Helper()
	ks := oidc.NewRemoteKeySet(context.Background(), w.env.URL+"/keys")
	at, err := oidc.NewVerifier(w.env.URL, ks, &oidc.Config{ClientID: r.client.ID}).Verify(context.Background(), tok.AccessToken)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	out := tokens{tok: tok, idToken: idClaims}
	_ = at.Claims(&out.access)
	st, info := userinfo(t, w.env, tok.AccessToken)
	if st != http.StatusOK {
		t.Fatalf("userinfo: %d %v", st, info)
	}
	out.info = info
	out.introspected = introspect(t, w.env, r, tok.AccessToken)
	return out
}

// refresh redeems a refresh token; on success it returns the new views.
func (w *orgWorld) refresh(t *testing.T, r *rp, refreshToken string) (int, map[string]any, tokens) {
	t.Helper()
	st, out, _ := r.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
	if st != http.StatusOK {
		return st, out, tokens{}
	}
	raw, _ := out["id_token"].(string)
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	tok := &oauth2.Token{AccessToken: out["access_token"].(string), RefreshToken: out["refresh_token"].(string)}
	return st, out, w.views(t, r, tok, claims)
}

func introspect(t *testing.T, env *hubtest.Env, r *rp, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(r.client.ID, r.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer drain(resp)
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}

var claimsVolatile = []string{"sub", "iat", "exp", "auth_time", "nonce", "sid", "at_hash", "c_hash", "updated_at", "jti", "nbf"}

func (w *orgWorld) golden(v tokens) map[string]any {
	return map[string]any{
		"id_token":      normalize(v.idToken, w.env.URL, claimsVolatile...),
		"access_token":  normalize(v.access, w.env.URL, claimsVolatile...),
		"userinfo":      normalize(v.info, w.env.URL, claimsVolatile...),
		"introspection": normalize(v.introspected, w.env.URL, claimsVolatile...),
	}
}

// chooseOrg answers the chooser page of auth request id with org.
func (b *browser) chooseOrg(f *flow, id, orgID string) {
	b.t.Helper()
	f.resp.Body.Close()
	f.resp = b.post(b.url("/login/org"), url.Values{"authRequestID": {id}, "org": {orgID}})
}

// onChooser reads the page and fails unless it is the organization
// chooser listing exactly the given codes.
func onChooser(t *testing.T, f *flow, codes ...string) {
	t.Helper()
	page := body(t, f.resp)
	if f.resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="/login/org"`) {
		t.Fatalf("want the chooser, got %d %s:\n%s", f.resp.StatusCode, f.resp.Request.URL, page)
	}
	for _, c := range []string{"AA01", "BB02", "CC03"} {
		if want := strings.Contains(strings.Join(codes, " "), c); strings.Contains(page, c) != want {
			t.Errorf("chooser lists %s: %v, want %v", c, !want, want)
		}
	}
}

// The claims of a person in two organizations with different account
// types, for a client of a service both are entitled to, for one only one
// of them is entitled to, and with organization selection (the chooser,
// the remembered choice, prompt=select_account, org_hint). Every view —
// ID token, JWT access token, userinfo, introspection — is in the golden
// file.
func TestGoldenOrganizationClaims(t *testing.T) {
	w := newOrgWorld(t, "embedded")
	out := map[string]any{}
	b := newBrowser(t, w.env)

	f := b.authorize(w.both)
	b.signIn(f, mikaEmail, testPassword, false)
	out["both: two organizations, no selection"] = w.golden(w.redeem(t, w.both, f))

	f = b.authorize(w.aonly)
	out["aonly: the service only AA01 is entitled to"] = w.golden(w.redeem(t, w.aonly, f))

	// organization_selection: required, several entitled organizations:
	// the chooser (only Mika's entitled organizations).
	f = b.authorize(w.sel)
	id := f.authRequestID()
	onChooser(t, f, "AA01", "BB02")
	b.chooseOrg(f, id, w.orgB.ID)
	out["sel: chosen on the page (BB02)"] = w.golden(w.redeem(t, w.sel, f))

	// Remembered for the client in this browser session: no page.
	f = b.authorize(w.sel)
	if f.authRequestID() != "" && f.resp.StatusCode == http.StatusOK {
		t.Fatal("the remembered choice was asked again")
	}
	if v := w.redeem(t, w.sel, f); orgCode(v.idToken) != "BB02" {
		t.Fatalf("remembered org %v", v.idToken["org"])
	}

	// prompt=select_account asks again.
	f = b.authorize(w.sel, oauth2.SetAuthURLParam("prompt", "select_account"))
	id = f.authRequestID()
	onChooser(t, f, "AA01", "BB02")
	b.chooseOrg(f, id, w.orgA.ID)
	if v := w.redeem(t, w.sel, f); orgCode(v.idToken) != "AA01" {
		t.Fatalf("after select_account: org %v", v.idToken["org"])
	}

	// org_hint names it: no page, in a new browser too.
	b2 := newBrowser(t, w.env)
	f = b2.authorize(w.sel, oauth2.SetAuthURLParam("org_hint", "BB02"))
	b2.signIn(f, mikaEmail, testPassword, false)
	out["sel: org_hint=BB02"] = w.golden(w.redeem(t, w.sel, f))

	// org_hint works for a client without required selection as well.
	f = b.authorize(w.both, oauth2.SetAuthURLParam("org_hint", "AA01"))
	if v := w.redeem(t, w.both, f); orgCode(v.idToken) != "AA01" || orgCode(v.access) != "AA01" || orgCode(v.info) != "AA01" || orgCode(v.introspected) != "AA01" {
		t.Fatalf("org_hint on both: %v", v)
	}
	golden(t, "org_claims.json", out)
}

func orgCode(claims map[string]any) string {
	o, _ := claims["org"].(map[string]any)
	c, _ := o["code"].(string)
	return c
}

// A hint naming an organization the person is not in, one that is not
// entitled to the service, or one that does not exist is refused with a
// page, never replaced; a malformed hint is an invalid request.
func TestOrgHintRefused(t *testing.T) {
	w := newOrgWorld(t, "embedded")
	b := newBrowser(t, w.env)
	f := b.authorize(w.both)
	b.signIn(f, mikaEmail, testPassword, false)
	w.both.exchange(t, f, f.code(t))
	cases := []struct {
		r    *rp
		hint string
		want string
	}{
		{w.sel, "CC03", "you are not a member of it"},
		{w.sel, "NOPE99", "you are not a member of it"},
		{w.aonly, "BB02", "that organization does not use this service"},
	}
	for _, c := range cases {
		f := b.authorize(c.r, oauth2.SetAuthURLParam("org_hint", c.hint))
		page := body(t, f.resp)
		if f.resp.StatusCode != http.StatusForbidden || !strings.Contains(page, c.want) || !strings.Contains(page, c.hint) {
			t.Errorf("%s org_hint=%s: %d, want 403 saying %q:\n%s", c.r.client.ID, c.hint, f.resp.StatusCode, c.want, page)
		}
		if loc := f.resp.Header.Get("Location"); loc != "" {
			t.Errorf("%s org_hint=%s: redirected to %s", c.r.client.ID, c.hint, loc)
		}
	}
	// A repeated parameter is refused before the client's redirect URI is
	// trusted (the strict layer): an error page, never a redirect.
	{
		u := w.sel.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())) + "&org_hint=AA01&org_hint=BB02"
		resp := b.get(u)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("repeated org_hint: %d %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A malformed hint goes back to the client as invalid_request.
	for _, q := range []string{"org_hint=" + url.QueryEscape("a b")} {
		f := b.authorize(w.sel)
		f.resp.Body.Close()
		u := w.sel.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())) + "&" + q
		resp := b.get(u)
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("%s: %d %v, want invalid_request at the client", q, resp.StatusCode, loc)
		}
	}
	// prompt=none when the person would have to choose.
	f = b.authorize(w.sel, oauth2.SetAuthURLParam("prompt", "none"))
	if e := f.redirectError(t); e != "account_selection_required" {
		t.Errorf("prompt=none with a choice to make: %q", e)
	}
	// A forged choice of someone else's organization is refused.
	f = b.authorize(w.sel)
	id := f.authRequestID()
	onChooser(t, f, "AA01", "BB02")
	b.chooseOrg(f, id, w.orgC.ID)
	if f.resp.StatusCode != http.StatusBadRequest {
		t.Errorf("choosing CC03: %d", f.resp.StatusCode)
	}
	f.resp.Body.Close()
}

// Role change: the next refresh carries the new role. Removal from the
// last organization entitled to a service: refresh fails with
// invalid_grant for that service's clients (and keeps working for a
// service another organization is entitled to), userinfo and
// introspection stop answering for it, and the next /authorize shows the
// "not entitled" page. Removal from the organization selected at sign-in
// ends that grant too.
func TestRoleChangeAndRemovalTakeEffectAtNextRefresh(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		w := newOrgWorld(t, backend)
		b := newBrowser(t, w.env)
		f := b.authorize(w.aonly)
		b.signIn(f, mikaEmail, testPassword, false)
		aonly := w.redeem(t, w.aonly, f)
		both := w.redeem(t, w.both, b.authorize(w.both))
		f = b.authorize(w.sel, oauth2.SetAuthURLParam("org_hint", "BB02"))
		sel := w.redeem(t, w.sel, f)

		w.setRole(t, w.orgA, store.RoleNormal)
		st, out, v := w.refresh(t, w.aonly, aonly.tok.RefreshToken)
		if st != http.StatusOK {
			t.Fatalf("refresh after a role change: %d %v", st, out)
		}
		for name, view := range map[string]map[string]any{"id_token": v.idToken, "access_token": v.access, "userinfo": v.info, "introspection": v.introspected} {
			if r, _ := view["roles"].([]any); len(r) != 1 || r[0] != "normal" {
				t.Errorf("%s after the role change: roles %v", name, view["roles"])
			}
		}
		aonly = v

		if err := w.env.Durable.DeleteMembership(context.Background(), w.user.ID, w.orgA.ID); err != nil {
			t.Fatal(err)
		}
		if st, out, _ := w.refresh(t, w.aonly, aonly.tok.RefreshToken); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Fatalf("refresh after removal: %d %v", st, out)
		}
		if st, _ := userinfo(t, w.env, aonly.tok.AccessToken); st == http.StatusOK {
			t.Error("userinfo still answers for a service the person lost")
		}
		if got := introspect(t, w.env, w.aonly, aonly.tok.AccessToken); got["active"] != false {
			t.Errorf("introspection after removal: %v", got)
		}
		// svc-both: still entitled through BB02, AA01 gone from the claims.
		st, out, v = w.refresh(t, w.both, both.tok.RefreshToken)
		if st != http.StatusOK {
			t.Fatalf("refresh for a service still entitled: %d %v", st, out)
		}
		if orgs, _ := v.idToken["orgs"].([]any); len(orgs) != 1 || orgs[0].(map[string]any)["code"] != "BB02" {
			t.Errorf("orgs after removal from AA01: %v", v.idToken["orgs"])
		}
		// SSO to svc-a ends: the next authorization shows the page.
		f = b.authorize(w.aonly)
		page := body(t, f.resp)
		if f.resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "is not available to you") {
			t.Fatalf("authorize after removal: %d\n%s", f.resp.StatusCode, page)
		}
		// Removal from the organization selected for sel (BB02) ends that
		// grant, although Mika is entitled to svc-both through AA01 again.
		w.setRole(t, w.orgA, store.RoleVisitor)
		if err := w.env.Durable.DeleteMembership(context.Background(), w.user.ID, w.orgB.ID); err != nil {
			t.Fatal(err)
		}
		if st, out, _ := w.refresh(t, w.sel, sel.tok.RefreshToken); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Fatalf("refresh after removal from the selected organization: %d %v", st, out)
		}
	})
}
