package idp_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func codeForm(r *rp, code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {r.oauth.RedirectURL}, "code_verifier": {verifier}}
}

// TestWrongSecretLeavesTheCodeUntouched: the client is authenticated
// before the code is looked at, so a valid code sent with a wrong secret
// is refused with 401 invalid_client and still works for the legitimate
// exchange that follows.
func TestWrongSecretLeavesTheCodeUntouched(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, _, _ := setup(t, backend)
		_, f, code := signedIn(t, env, ships)
		wrong := *ships
		wrong.secret = "not-the-secret-0123456789-0123456789"
		st, out, h := wrong.tokenRequest(t, codeForm(ships, code, f.verifier))
		if st != 401 || out["error"] != "invalid_client" || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("wrong secret: %d %v, WWW-Authenticate %q; want 401 invalid_client with a Basic challenge", st, out, h.Get("WWW-Authenticate"))
		}
		if st, out, _ := ships.tokenRequest(t, codeForm(ships, code, f.verifier)); st != 200 || out["access_token"] == nil {
			t.Fatalf("the legitimate exchange after a wrong secret: %d %v", st, out)
		}
	})
}

// TestPKCEVerifierSyntaxBeforeTheCode: a verifier that is not 43-128
// characters of [A-Za-z0-9-._~] (RFC 7636 §4.1) is invalid_grant before
// the code is redeemed.
func TestPKCEVerifierSyntaxBeforeTheCode(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	_, f, code := signedIn(t, env, ships)
	for _, v := range []string{
		f.verifier[:42],                 // too short
		strings.Repeat("a", 129),        // too long
		f.verifier[:42] + "+",           // not unreserved
		f.verifier[:42] + "=",           // base64 padding
		f.verifier[:42] + "\u00e9",      // not ASCII
		strings.Repeat("a", 42) + "%20", // escaped space
	} {
		st, out, _ := ships.tokenRequest(t, codeForm(ships, code, v))
		if st != 400 || out["error"] != "invalid_grant" {
			t.Errorf("verifier %q: %d %v, want 400 invalid_grant", v, st, out)
		}
	}
	if st, out, _ := ships.tokenRequest(t, codeForm(ships, code, f.verifier)); st != 200 {
		t.Fatalf("exchange with the right verifier after malformed ones: %d %v", st, out)
	}
}

// TestUserinfoBearerErrors: RFC 6750 §3 — a token that is not a valid
// access token is 401 with WWW-Authenticate: Bearer error="invalid_token";
// 403 only for insufficient_scope.
func TestUserinfoBearerErrors(t *testing.T) {
	clock := storetest.NewClock(time.Now())
	env, ships, _, _ := setup(t, "embedded", func(o *hubtest.Options) { o.Now = clock.Now })
	_, f, code := signedIn(t, env, ships)
	tok, _, _ := ships.exchange(t, f, code)
	idToken, _ := tok.Extra("id_token").(string)
	if st, _ := userinfo(t, env, tok.AccessToken); st != 200 {
		t.Fatalf("userinfo with a fresh access token: %d", st)
	}
	_, f, code = signedIn(t, env, ships)
	revoked, _, _ := ships.exchange(t, f, code)
	revoke := raw{"POST", "/revoke", "", form, "token=" + url.QueryEscape(revoked.AccessToken), basic("ships", shipsSecret)}
	if resp, body := revoke.do(t, env); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	_, cc, _ := ships.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "scope": {"ships.read"}})
	ccToken, _ := cc["access_token"].(string)

	check := func(name, token string, status int, code string) {
		t.Helper()
		resp, body := raw{"GET", "/userinfo", "", "", "", "Bearer " + token}.do(t, env)
		ch := resp.Header.Get("WWW-Authenticate")
		var out struct{ Error string }
		_ = json.Unmarshal([]byte(body), &out)
		if resp.StatusCode != status || out.Error != code || !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="`+code+`"`) {
			t.Errorf("%s: %d %q, WWW-Authenticate %q; want %d %s with a Bearer challenge", name, resp.StatusCode, body, ch, status, code)
		}
	}
	check("ID token", idToken, 401, "invalid_token")
	check("revoked token", revoked.AccessToken, 401, "invalid_token")
	check("forged token", tok.AccessToken[:len(tok.AccessToken)-4]+"AAAA", 401, "invalid_token")
	check("client credentials token", ccToken, 403, "insufficient_scope")
	clock.Advance(env.Config.Tokens.AccessTTL.D() + time.Minute)
	check("expired token", tok.AccessToken, 401, "invalid_token")
}

// refreshAll sends one refresh token n times at once and returns the
// answers.
func refreshAll(t *testing.T, r *rp, rt string, n int) (ok, failed []map[string]any, unavailable int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, out, _ := r.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case st == 200:
				ok = append(ok, out)
			case st == 400 && out["error"] == "invalid_grant":
				failed = append(failed, out)
			case st == 503 && out["error"] == "temporarily_unavailable":
				unavailable++
			default:
				t.Errorf("parallel refresh: %d %v", st, out)
			}
		}()
	}
	close(start)
	wg.Wait()
	return ok, failed, unavailable
}

func introspectActive(t *testing.T, env *hubtest.Env, token string) bool {
	t.Helper()
	resp, body := raw{"POST", "/oauth/introspect", "", form, "token=" + url.QueryEscape(token), basic("ships", shipsSecret)}.do(t, env)
	var out struct{ Active bool }
	if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("introspect: %d %s", resp.StatusCode, body)
	}
	return out.Active
}

// liveRefresh reports whether a refresh token value is live in the store.
func liveRefresh(t *testing.T, env *hubtest.Env, value string) bool {
	t.Helper()
	family, _, _ := strings.Cut(value, ".")
	_, err := env.Ephemeral.GetRefreshToken(context.Background(), family, oidcstore.HashToken(value))
	return err == nil
}

func firstTokens(t *testing.T, env *hubtest.Env, r *rp) map[string]any {
	_, f, code := signedIn(t, env, r, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	st, out, _ := r.tokenRequest(t, codeForm(r, code, f.verifier))
	if st != 200 || out["refresh_token"] == nil {
		t.Fatalf("code exchange: %d %v", st, out)
	}
	return out
}

// TestRefreshReuseStrictByDefault: with the default configuration, one
// refresh token sent 50 times at once gives exactly one success and
// revokes the family, the winner's tokens included.
func TestRefreshReuseStrictByDefault(t *testing.T) {
	if g := config.Defaults().Tokens.RefreshReuseGrace; g != 0 {
		t.Fatalf("tokens.refresh_reuse_grace defaults to %v, want 0", g.D())
	}
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, _, _ := setup(t, backend)
		first := firstTokens(t, env, ships)
		ok, failed, unavailable := refreshAll(t, ships, first["refresh_token"].(string), 50)
		if len(ok) != 1 || len(failed) != 49 {
			t.Fatalf("50 parallel refreshes: %d succeeded, %d invalid_grant, %d unavailable; want 1, 49, 0", len(ok), len(failed), unavailable)
		}
		if liveRefresh(t, env, ok[0]["refresh_token"].(string)) {
			t.Error("the winner's refresh token is still live: the family was not revoked")
		}
		if introspectActive(t, env, ok[0]["access_token"].(string)) {
			t.Error("the winner's access token is still active: the family was not revoked")
		}
	})
}

// TestRefreshGraceRetriesLeaveOneValidToken: with a grace configured, 50
// parallel retries of one refresh token inside it leave one live refresh
// token and one access token that userinfo and introspection accept
// (never 50), and each retry is audited. A retry may be answered 503
// (temporarily_unavailable: the Redis rotation gave up under contention);
// those are counted apart, and none is invalid_grant.
func TestRefreshGraceRetriesLeaveOneValidToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, _, _ := setup(t, backend, func(o *hubtest.Options) {
			o.Config = func(c *config.Config) { c.Tokens.RefreshReuseGrace = config.Duration(30 * time.Second) }
		})
		first := firstTokens(t, env, ships)
		ok, failed, unavailable := refreshAll(t, ships, first["refresh_token"].(string), 50)
		t.Logf("50 parallel refreshes within the grace: %d succeeded, %d invalid_grant, %d unavailable (503)", len(ok), len(failed), unavailable)
		if len(ok) == 0 || len(failed) != 0 {
			t.Fatalf("%d refreshes succeeded and %d got invalid_grant within the grace; want some and none", len(ok), len(failed))
		}
		liveRT, activeAT, userinfoOK := 0, 0, 0
		for _, out := range ok {
			if liveRefresh(t, env, out["refresh_token"].(string)) {
				liveRT++
			}
			if introspectActive(t, env, out["access_token"].(string)) {
				activeAT++
			}
			if st, _ := userinfo(t, env, out["access_token"].(string)); st == 200 {
				userinfoOK++
			}
		}
		if liveRT != 1 || activeAT != 1 || userinfoOK != 1 {
			t.Fatalf("%d successful retries left %d live refresh tokens, %d access tokens active at introspection and %d accepted by userinfo; want 1 each",
				len(ok), liveRT, activeAT, userinfoOK)
		}
		evs, err := env.Durable.ListAudit(context.Background(), store.AuditFilter{Kinds: []string{oidcstore.AuditRefreshGraceRetry}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(ok)-1 {
			t.Fatalf("%d grace retries audited, want %d (every success but the first rotation)", len(evs), len(ok)-1)
		}
		// Once the successor is used, the grace is over: the old token is
		// reuse and revokes the family.
		var live map[string]any
		for _, out := range ok {
			if liveRefresh(t, env, out["refresh_token"].(string)) {
				live = out
			}
		}
		st, next, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {live["refresh_token"].(string)}})
		if st != 200 {
			t.Fatalf("refresh with the live successor: %d %v", st, next)
		}
		if st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}); st != 400 {
			t.Fatalf("retry after the successor was used: %d %v", st, out)
		}
		if introspectActive(t, env, next["access_token"].(string)) {
			t.Error("family not revoked after reuse past the grace")
		}
	})
}
