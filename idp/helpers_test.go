package idp_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

const testPassword = "correct horse battery staple"

// rp is a relying party driven by the independent libraries go-oidc and
// x/oauth2 (not zitadel/oidc's rp package, which shares code with op).
type rp struct {
	env      *hubtest.Env
	client   store.Client
	secret   string
	oauth    *oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

func newRP(t testing.TB, env *hubtest.Env, id, secret, service string) *rp {
	t.Helper()
	return newRPWith(t, env, id, secret, service, func(*store.Client) {})
}

// newRPWith is newRP with the registration adjusted before it is stored.
func newRPWith(t testing.TB, env *hubtest.Env, id, secret, service string, adjust func(*store.Client)) *rp {
	t.Helper()
	redirect := "https://" + id + ".example/callback"
	grants := []string{"authorization_code", "refresh_token", "client_credentials"}
	if secret == "" {
		grants = grants[:2] // a public client has no client_credentials
	}
	reg := store.Client{
		ID: id, Name: strings.ToUpper(id), ServiceID: env.EnsureService(t, service).ID,
		RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{"https://" + id + ".example/"},
		GrantTypes: grants,
	}
	adjust(&reg)
	c := env.AddClient(t, reg, secret)
	p, err := oidc.NewProvider(context.Background(), env.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &rp{
		env: env, client: c, secret: secret, provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: id}),
		oauth: &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: redirect, Endpoint: p.Endpoint(),
			Scopes: []string{oidc.ScopeOpenID, "profile", "email"}},
	}
}

// browser is a person's browser: a cookie jar and a client that follows
// redirects inside hubid and stops at a relying party.
type browser struct {
	t      testing.TB
	http   *http.Client
	jar    http.CookieJar
	issuer string
}

func newBrowser(t testing.TB, env *hubtest.Env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, http: env.NoRedirectClient(jar), jar: jar, issuer: env.URL}
}

func random(t testing.TB) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// flow is one authorization request in progress.
type flow struct {
	state, nonce, verifier string
	resp                   *http.Response // the last response
}

func (b *browser) get(u string) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Sec-Fetch-Site", "none")
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

func (b *browser) post(u string, form url.Values) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("User-Agent", "hubid-test-browser")
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

func body(t testing.TB, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// authorize starts a code flow with PKCE S256 and a nonce.
func (b *browser) authorize(r *rp, opts ...oauth2.AuthCodeOption) *flow {
	f := &flow{state: random(b.t), nonce: random(b.t), verifier: oauth2.GenerateVerifier()}
	opts = append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce)}, opts...)
	f.resp = b.get(r.oauth.AuthCodeURL(f.state, opts...))
	return f
}

// onLoginPage reports whether the flow shows the sign-in page.
func (f *flow) authRequestID() string {
	if f.resp.Request == nil || f.resp.Request.URL.Path != "/login" {
		return ""
	}
	return f.resp.Request.URL.Query().Get("authRequestID")
}

// signIn fills the two sign-in pages.
func (b *browser) signIn(f *flow, email, password string, remember bool) {
	b.t.Helper()
	id := f.authRequestID()
	if id == "" {
		b.t.Fatalf("not on the sign-in page: %s %v", f.resp.Status, f.resp.Request.URL)
	}
	f.resp.Body.Close()
	f.resp = b.post(b.url("/login/email"), url.Values{"authRequestID": {id}, "email": {email}})
	if f.resp.Request.URL.Path != "/login/password" {
		b.t.Fatalf("email step ended at %s (%s)", f.resp.Request.URL, f.resp.Status)
	}
	f.resp.Body.Close()
	form := url.Values{"authRequestID": {id}, "password": {password}}
	if remember {
		form.Set("remember", "1")
	}
	f.resp = b.post(b.url("/login/password"), form)
}

func (b *browser) url(p string) string {
	// the first request set the issuer; all our paths are on it
	return b.issuer + p
}

// code returns the code the flow delivered to the relying party.
func (f *flow) code(t testing.TB) string {
	t.Helper()
	loc, err := f.resp.Location()
	if err != nil {
		t.Fatalf("no redirect to the relying party: %s %s", f.resp.Status, f.resp.Request.URL)
	}
	q := loc.Query()
	if q.Get("error") != "" {
		t.Fatalf("authorization error: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != f.state {
		t.Fatalf("state %q, want %q", q.Get("state"), f.state)
	}
	return q.Get("code")
}

// redirectError returns the error delivered to the relying party.
func (f *flow) redirectError(t testing.TB) string {
	t.Helper()
	loc, err := f.resp.Location()
	if err != nil {
		t.Fatalf("no redirect to the relying party: %s %v", f.resp.Status, f.resp.Request.URL)
	}
	return loc.Query().Get("error")
}

// exchange redeems the code and verifies the ID token.
func (r *rp) exchange(t testing.TB, f *flow, code string) (*oauth2.Token, *oidc.IDToken, map[string]any) {
	t.Helper()
	ctx := context.Background()
	tok, err := r.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != f.nonce {
		t.Fatalf("nonce %q, want %q", idt.Nonce, f.nonce)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return tok, idt, claims
}

// tokenRequest posts to the token endpoint with client authentication.
func (r *rp) tokenRequest(t testing.TB, form url.Values) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.provider.Endpoint().TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r.secret != "" {
		req.SetBasicAuth(url.QueryEscape(r.client.ID), url.QueryEscape(r.secret))
	} else {
		form.Set("client_id", r.client.ID)
		req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer drain(resp)
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

// userinfo calls the userinfo endpoint with an access token.
func userinfo(t testing.TB, env *hubtest.Env, accessToken string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer drain(resp)
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// drain reads the rest of a body so the connection is reused.
func drain(r *http.Response) {
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
}
