package idp_test

import (
	"context"
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

// setup starts hubid with two services and a user entitled to both.
func setup(t *testing.T, backend string, adjust ...func(*hubtest.Options)) (*hubtest.Env, *rp, *rp, store.User) {
	opt := hubtest.Options{Backend: backend}
	for _, a := range adjust {
		a(&opt)
	}
	env := hubtest.New(t, opt)
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "nk-ships")
	pass := newRP(t, env, "pass", "", "nk-pass")
	u := env.AddUser(t, hubtest.User{Email: "Aiko@Example.com", Password: testPassword, Name: "Aiko", Org: "NK0001", Role: store.RoleAdministrator, Service: "nk-ships"})
	org, _ := env.Durable.GetOrganizationByCode(context.Background(), "NK0001")
	svc := env.EnsureService(t, "nk-pass")
	if err := env.Durable.PutEntitlement(context.Background(), store.Entitlement{OrgID: org.ID, ServiceID: svc.ID, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return env, ships, pass, u
}

func eachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range hubtest.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

func TestSignInThenSSOAcrossServices(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, pass, u := setup(t, backend)
		b := newBrowser(t, env)

		f := b.authorize(ships)
		b.signIn(f, "aiko@example.COM", testPassword, false)
		tok, idt, claims := ships.exchange(t, f, f.code(t))
		if idt.Subject != u.ID {
			t.Fatalf("sub %q, want the stable user ID %q", idt.Subject, u.ID)
		}
		for _, c := range []string{"auth_time", "amr", "acr", "sid", "nonce", "email", "name"} {
			if claims[c] == nil {
				t.Errorf("ID token lacks %s: %v", c, claims)
			}
		}
		if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
			t.Errorf("amr %v", claims["amr"])
		}
		if tok.TokenType != "Bearer" || tok.AccessToken == "" {
			t.Fatalf("token %+v", tok)
		}

		// The other service: a code without any page.
		f2 := b.authorize(pass)
		if f2.authRequestID() != "" {
			t.Fatal("SSO showed the sign-in page")
		}
		_, idt2, claims2 := pass.exchange(t, f2, f2.code(t))
		if idt2.Subject != u.ID || claims2["sid"] != claims["sid"] {
			t.Fatalf("SSO token: sub %s sid %v (first sid %v)", idt2.Subject, claims2["sid"], claims["sid"])
		}
		if !idt2.IssuedAt.After(idt.IssuedAt.Add(-time.Second)) || claims2["auth_time"] != claims["auth_time"] {
			t.Fatalf("SSO must keep auth_time: %v vs %v", claims2["auth_time"], claims["auth_time"])
		}
	})
}

func TestJWTAccessTokenAndUserinfo(t *testing.T) {
	env, ships, _, u := setup(t, "embedded")
	b := newBrowser(t, env)
	f := b.authorize(ships)
	b.signIn(f, "aiko@example.com", testPassword, false)
	tok, _, claims := ships.exchange(t, f, f.code(t))

	// The JWT access token verifies with the published keys and carries
	// scope, client_id, sid and the client in its audience.
	ks := oidc.NewRemoteKeySet(context.Background(), env.URL+"/keys")
	at, err := oidc.NewVerifier(env.URL, ks, &oidc.Config{ClientID: "ships"}).Verify(context.Background(), tok.AccessToken)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	var ac map[string]any
	_ = at.Claims(&ac)
	if ac["scope"] != "openid profile email" || ac["client_id"] != "ships" || ac["sid"] != claims["sid"] {
		t.Fatalf("access token claims %v", ac)
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, env.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("userinfo %s: %v %v", method, err, resp.Status)
		}
		resp.Body.Close()
	}
	code, info := userinfo(t, env, tok.AccessToken)
	if code != 200 || info["sub"] != u.ID || info["email"] != "Aiko@Example.com" {
		t.Fatalf("userinfo %d %v", code, info)
	}
}

func TestPromptNoneAndPromptLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, pass, _ := setup(t, backend)
		b := newBrowser(t, env)

		// No session: prompt=none answers login_required at the redirect URI.
		f := b.authorize(ships, oauth2.SetAuthURLParam("prompt", "none"))
		if e := f.redirectError(t); e != "login_required" {
			t.Fatalf("prompt=none without session: %q", e)
		}
		f = b.authorize(ships)
		b.signIn(f, "aiko@example.com", testPassword, false)
		tok, _, claims := ships.exchange(t, f, f.code(t))

		// With a session, prompt=none and an id_token_hint work silently.
		f = b.authorize(pass, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
		pass.exchange(t, f, f.code(t))

		// prompt=login shows the sign-in page and yields a new auth_time.
		time.Sleep(1100 * time.Millisecond) // auth_time has one-second resolution
		f = b.authorize(ships, oauth2.SetAuthURLParam("prompt", "login"))
		if f.authRequestID() == "" {
			t.Fatal("prompt=login did not show the sign-in page")
		}
		b.signIn(f, "aiko@example.com", testPassword, false)
		_, _, claims2 := ships.exchange(t, f, f.code(t))
		if claims2["auth_time"].(float64) <= claims["auth_time"].(float64) {
			t.Fatalf("prompt=login kept auth_time %v", claims2["auth_time"])
		}
		// max_age=0 behaves like prompt=login.
		f = b.authorize(ships, oauth2.SetAuthURLParam("max_age", "0"))
		if f.authRequestID() == "" {
			t.Fatal("max_age=0 did not show the sign-in page")
		}
	})
}

func TestLoginHintFillsEmailAndUnknownParamsIgnored(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	b := newBrowser(t, env)
	f := b.authorize(ships, oauth2.SetAuthURLParam("login_hint", "aiko@example.com"), oauth2.SetAuthURLParam("frobnicate", "yes"))
	page := body(t, f.resp)
	if !strings.Contains(page, `value="aiko@example.com"`) || !strings.Contains(page, `autocomplete="username"`) {
		t.Fatalf("login_hint not filled in:\n%s", page)
	}
}

func TestWrongPasswordAndUnknownEmailLookTheSame(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	var pages []string
	var codes []int
	for _, email := range []string{"aiko@example.com", "nobody@example.com"} {
		b := newBrowser(t, env)
		f := b.authorize(ships)
		b.signIn(f, email, "wrong password!", false)
		codes = append(codes, f.resp.StatusCode)
		page := body(t, f.resp)
		// The page shows the email the person typed; compare the rest.
		pages = append(pages, strings.ReplaceAll(strings.ReplaceAll(page, email, "EMAIL"), f.resp.Request.URL.Query().Get("authRequestID"), "ID"))
	}
	if codes[0] != codes[1] || pages[0] != pages[1] {
		t.Fatalf("responses differ: %d vs %d\n%s\n---\n%s", codes[0], codes[1], pages[0], pages[1])
	}
	if !strings.Contains(pages[0], "The email address or password is incorrect.") {
		t.Fatalf("no generic message:\n%s", pages[0])
	}
}

func TestThrottlingTellsWhenToRetry(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	b := newBrowser(t, env)
	f := b.authorize(ships)
	id := f.authRequestID()
	b.signIn(f, "aiko@example.com", "wrong", false)
	for range 4 {
		f.resp.Body.Close()
		f.resp = b.post(env.URL+"/login/password", url.Values{"authRequestID": {id}, "password": {"wrong"}})
	}
	f.resp.Body.Close()
	// The sixth attempt, even with the right password, is refused before any hash.
	f.resp = b.post(env.URL+"/login/password", url.Values{"authRequestID": {id}, "password": {testPassword}})
	page := body(t, f.resp)
	if f.resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Try again after") {
		t.Fatalf("want 429 with a retry time, got %d:\n%s", f.resp.StatusCode, page)
	}
}

func TestNotEntitledGetsAClearPageAndNoCode(t *testing.T) {
	env, _, _, _ := setup(t, "embedded")
	other := newRP(t, env, "other", "other-secret-0123456789-0123456789-abcd", "nk-other")
	b := newBrowser(t, env)
	f := b.authorize(other)
	b.signIn(f, "aiko@example.com", testPassword, false)
	page := body(t, f.resp)
	if f.resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "is not available to you") {
		t.Fatalf("want 403 page, got %d %s", f.resp.StatusCode, page)
	}
	if loc := f.resp.Header.Get("Location"); loc != "" {
		t.Fatalf("redirected to %s", loc)
	}
}

func TestRememberMeCookie(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	for _, remember := range []bool{true, false} {
		b := newBrowser(t, env)
		f := b.authorize(ships)
		id := f.authRequestID()
		f.resp.Body.Close()
		b.post(env.URL+"/login/email", url.Values{"authRequestID": {id}, "email": {"aiko@example.com"}}).Body.Close()
		form := url.Values{"authRequestID": {id}, "password": {testPassword}}
		if remember {
			form.Set("remember", "1")
		}
		// Stop at the first response to read its Set-Cookie.
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/login/password", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range b.jar.Cookies(req.URL) {
			req.AddCookie(c)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST answered %d, want 303", resp.StatusCode)
		}
		var sc *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "hubid_session" {
				sc = c
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie %+v", sc)
		}
		if remember && sc.MaxAge != 14*24*3600 {
			t.Fatalf("remember: Max-Age %d, want 14 days", sc.MaxAge)
		}
		if !remember && (sc.MaxAge != 0 || !sc.Expires.IsZero()) {
			t.Fatalf("without remember: want a browser-session cookie, got %+v", sc)
		}
	}
}

func TestPagesSendSecurityHeaders(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	b := newBrowser(t, env)
	f := b.authorize(ships)
	h := f.resp.Header
	f.resp.Body.Close()
	for k, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
	} {
		if !strings.Contains(h.Get(k), want) {
			t.Errorf("%s: %q", k, h.Get(k))
		}
	}
	for _, d := range []string{"object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(h.Get("Content-Security-Policy"), d) {
			t.Errorf("CSP lacks %s", d)
		}
	}
	// Cross-site form posts are refused.
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/login/email", strings.NewReader("email=a@b.c"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", resp.StatusCode)
	}
}
