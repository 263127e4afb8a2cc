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

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

func TestES256IDTokensWhenConfigured(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Config: func(c *config.Config) {
		c.Keys.Algorithms = []string{"RS256", "ES256"}
		c.Tokens.IDTokenSigningAlgorithm = "ES256"
	}})
	r := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	r.verifier = r.provider.Verifier(&oidc.Config{ClientID: "ships", SupportedSigningAlgs: []string{"ES256"}})
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	_, f, code := signedIn(t, env, r)
	r.exchange(t, f, code) // verifies with ES256 only
}

func TestOpaqueAccessTokensPerClient(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	r := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	if _, err := env.Durable.UpdateClient(context.Background(), "ships", func(c *store.Client) error {
		c.AccessTokenType = store.AccessTokenOpaque
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	_, f, code := signedIn(t, env, r)
	tok, _, _ := r.exchange(t, f, code)
	if strings.Count(tok.AccessToken, ".") == 2 {
		t.Fatal("got a JWT for an opaque-token client")
	}
	if st, info := userinfo(t, env, tok.AccessToken); st != 200 || info["email"] != "aiko@example.com" {
		t.Fatalf("userinfo with an opaque token: %d %v", st, info)
	}
}

// TestRefreshFailsAfterPasswordChangeOrDisable: also once the user is in
// the token endpoints' cache (idp/usercache) — the code exchange, a
// refresh and userinfo have read it — the change takes effect at once.
func TestRefreshFailsAfterPasswordChangeOrDisable(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		for i, change := range []func(*store.User){
			func(u *store.User) { u.PasswordChangedAt = time.Now().Add(time.Second) },
			func(u *store.User) { u.Disabled = true },
		} {
			env := hubtest.New(t, hubtest.Options{Backend: backend})
			r := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
			u := env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
			_, f, code := signedIn(t, env, r, oauth2.SetAuthURLParam("scope", "openid offline_access"))
			tok, _, _ := r.exchange(t, f, code)
			st, out, _ := r.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if st != 200 {
				t.Fatalf("refresh before the change: %d %v", st, out)
			}
			if st, _ := userinfo(t, env, out["access_token"].(string)); st != 200 {
				t.Fatalf("userinfo before the change: %d", st)
			}
			if _, err := env.Durable.UpdateUser(context.Background(), u.ID, func(x *store.User) error { change(x); return nil }); err != nil {
				t.Fatal(err)
			}
			if st, out, _ := r.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}}); st != 400 || out["error"] != "invalid_grant" {
				t.Fatalf("change %d: refresh after it: %d %v", i, st, out)
			}
			if i == 1 {
				if st, _ := userinfo(t, env, out["access_token"].(string)); st == 200 {
					t.Fatal("userinfo for a disabled user answered 200")
				}
			}
		}
	})
}

func TestOfflineRefreshSurvivesLogoutButSessionBoundDoesNot(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	r := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	b, f, code := signedIn(t, env, r, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	tok, _, _ := r.exchange(t, f, code)
	q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}}
	b.get(env.URL + "/end_session?" + q.Encode()).Body.Close()
	if st, out, _ := r.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}); st != 200 {
		t.Fatalf("offline_access refresh token died with the session: %d %v", st, out)
	}
}

func TestCORSOnlyForRegisteredOrigins(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	if err := env.Server.RefreshOrigins(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, origin string
		allowed      bool
	}{
		{"/keys", "https://ships.example", true},
		{"/.well-known/openid-configuration", "https://ships.example", true},
		{"/keys", "https://evil.example", false},
		{"/oauth/introspect", "https://ships.example", false},
	} {
		req, _ := http.NewRequest(http.MethodGet, env.URL+tc.path, nil)
		req.Header.Set("Origin", tc.origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if tc.allowed != (got == tc.origin) || (!tc.allowed && got != "") {
			t.Errorf("%s from %s: Access-Control-Allow-Origin %q", tc.path, tc.origin, got)
		}
	}
}
