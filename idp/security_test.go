package idp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
)

// signedIn returns a browser with a session and a finished flow's code.
func signedIn(t testing.TB, env *hubtest.Env, r *rp, opts ...oauth2.AuthCodeOption) (*browser, *flow, string) {
	b := newBrowser(t, env)
	f := b.authorize(r, opts...)
	b.signIn(f, "aiko@example.com", testPassword, false)
	return b, f, f.code(t)
}

func TestRedirectURIVariantsGetAnErrorPageAndNoRedirect(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	good := ships.oauth.RedirectURL // https://ships.example/callback
	variants := []string{
		good + "/", "https://SHIPS.example/callback", "https://ships.example/Callback",
		good + "?x=1", good + "#frag", "https://ships.example:8443/callback",
		"http://ships.example/callback", "https://user@ships.example/callback",
		"https://ships.example/%63allback", "https://ships.example.evil.com/callback", "",
	}
	for _, v := range variants {
		b := newBrowser(t, env)
		q := url.Values{"client_id": {"ships"}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"s"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		if v != "" {
			q.Set("redirect_uri", v)
		}
		resp := b.get(env.URL + "/authorize?" + q.Encode())
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "" || resp.StatusCode < 400 {
			t.Errorf("redirect_uri %q: %d, Location %q — want an error page and no redirect", v, resp.StatusCode, loc)
		}
	}
}

func TestPKCEIsRequiredAndS256Only(t *testing.T) {
	env, ships, pass, _ := setup(t, "embedded")
	for _, tc := range []struct {
		name string
		r    *rp
		q    url.Values
	}{
		{"plain", ships, url.Values{"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"plain"}}},
		{"missing (confidential)", ships, url.Values{}},
		{"missing (public)", pass, url.Values{}},
		{"challenge without method", pass, url.Values{"code_challenge": {strings.Repeat("a", 43)}}},
	} {
		b := newBrowser(t, env)
		q := url.Values{"client_id": {tc.r.client.ID}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"s"}, "redirect_uri": {tc.r.oauth.RedirectURL}}
		for k, v := range tc.q {
			q[k] = v
		}
		resp := b.get(env.URL + "/authorize?" + q.Encode())
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || loc.Query().Get("error") != "invalid_request" {
			t.Errorf("%s: want invalid_request at the redirect URI, got %d %v", tc.name, resp.StatusCode, loc)
		}
	}
}

func TestCodeRedemption(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, _, _ := setup(t, backend)
		form := func(code, verifier string) url.Values {
			v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ships.oauth.RedirectURL}}
			if verifier != "" {
				v.Set("code_verifier", verifier)
			}
			return v
		}
		// Wrong and missing verifier fail.
		_, _, code := signedIn(t, env, ships)
		if st, out, _ := ships.tokenRequest(t, form(code, oauth2.GenerateVerifier())); st != 400 || out["error"] != "invalid_grant" {
			t.Errorf("wrong verifier: %d %v", st, out)
		}
		_, _, code = signedIn(t, env, ships)
		if st, out, _ := ships.tokenRequest(t, form(code, "")); st != 400 || out["error"] != "invalid_request" {
			t.Errorf("missing verifier: %d %v", st, out)
		}
		// Wrong redirect URI fails.
		_, f, code := signedIn(t, env, ships)
		bad := form(code, f.verifier)
		bad.Set("redirect_uri", "https://ships.example/other")
		if st, out, _ := ships.tokenRequest(t, bad); st != 400 {
			t.Errorf("wrong redirect_uri: %d %v", st, out)
		}
		// A wrong client secret is 401 invalid_client.
		_, f, code = signedIn(t, env, ships)
		wrong := *ships
		wrong.secret = "not-the-secret-0123456789-0123456789"
		if st, out, _ := wrong.tokenRequest(t, form(code, f.verifier)); st != 401 || out["error"] != "invalid_client" {
			t.Errorf("wrong secret: %d %v", st, out)
		}

		// Replay: the second redemption fails and revokes what the first issued.
		_, f, code = signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
		st, first, h := ships.tokenRequest(t, form(code, f.verifier))
		if st != 200 || first["refresh_token"] == nil {
			t.Fatalf("first redemption: %d %v", st, first)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("token response Cache-Control %q", h.Get("Cache-Control"))
		}
		if st, out, _ := ships.tokenRequest(t, form(code, f.verifier)); st != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("replay: %d %v", st, out)
		}
		if st, _ := userinfo(t, env, first["access_token"].(string)); st == 200 {
			t.Error("access token from a replayed code still works at userinfo")
		}
		if st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}); st == 200 {
			t.Errorf("refresh token from a replayed code still works: %v", out)
		}
	})
}

func TestTwoHundredParallelRedemptionsYieldOneToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, _, _ := setup(t, backend)
		_, f, code := signedIn(t, env, ships)
		var ok, invalid atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
					"redirect_uri": {ships.oauth.RedirectURL}, "code_verifier": {f.verifier}})
				switch {
				case st == 200:
					ok.Add(1)
				case out["error"] == "invalid_grant":
					invalid.Add(1)
				default:
					t.Errorf("unexpected answer %d %v", st, out)
				}
			}()
		}
		close(start)
		wg.Wait()
		if ok.Load() != 1 || invalid.Load() != 199 {
			t.Fatalf("%d succeeded, %d invalid_grant; want exactly 1 and 199", ok.Load(), invalid.Load())
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env := hubtest.New(t, hubtest.Options{Backend: backend})
		ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "nk-ships")
		env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "NK1", Service: "nk-ships"})
		_, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
		_, first, _ := ships.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {ships.oauth.RedirectURL}, "code_verifier": {f.verifier}})
		refresh := func(rt string) (int, map[string]any) {
			st, out, h := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("refresh response Cache-Control %q", h.Get("Cache-Control"))
			}
			return st, out
		}
		rt1 := first["refresh_token"].(string)
		// The value names its family; altering that part, or dropping it,
		// gives a token that does not exist, and changes nothing.
		fam, secret, ok := strings.Cut(rt1, ".")
		if !ok || fam == "" || len(secret) < 43 {
			t.Fatalf("refresh token %q: want family.secret with 256 random bits", rt1)
		}
		for _, forged := range []string{"x" + rt1, secret, fam + ".", "." + secret, fam + "x." + secret} {
			if st, out := refresh(forged); st != 400 || out["error"] != "invalid_grant" {
				t.Fatalf("forged refresh token %q: %d %v", forged, st, out)
			}
		}
		st, second := refresh(rt1)
		if st != 200 || second["refresh_token"] == rt1 {
			t.Fatalf("rotation: %d %v", st, second)
		}
		rt2 := second["refresh_token"].(string)
		st, third := refresh(rt2)
		if st != 200 {
			t.Fatalf("second rotation: %d %v", st, third)
		}
		// Reuse rt1 after its successor rt2 was itself used: reuse detected
		// (whatever the grace).
		if st, out := refresh(rt1); st != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("reuse of a rotated token: %d %v", st, out)
		}
		// The whole family is revoked, including the newest token.
		if st, out := refresh(third["refresh_token"].(string)); st != 400 {
			t.Fatalf("family not revoked: %d %v", st, out)
		}
	})
}

func TestClientCredentialsIntrospectionRevocation(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid ships.read"}})
	if st != 200 || out["access_token"] == nil {
		t.Fatalf("client_credentials: %d %v", st, out)
	}
	at := out["access_token"].(string)
	introspect := func(tok string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("ships", ships.secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	got := introspect(at)
	if got["active"] != true || got["client_id"] != "ships" || got["scope"] != "ships.read" {
		t.Fatalf("introspection %v", got)
	}
	if st, _ := userinfo(t, env, at); st == 200 {
		t.Error("a client_credentials token must not answer userinfo")
	}
	// Unauthenticated introspection is refused.
	resp, _ := http.PostForm(env.URL+"/oauth/introspect", url.Values{"token": {at}})
	resp.Body.Close()
	if resp.StatusCode != 401 && resp.StatusCode != 400 {
		t.Errorf("unauthenticated introspection: %d", resp.StatusCode)
	}
	// Revocation (RFC 7009) makes it inactive.
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/revoke", strings.NewReader(url.Values{"token": {at}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ships", ships.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	if got := introspect(at); got["active"] != false {
		t.Fatalf("revoked token still active: %v", got)
	}
	if got := introspect("garbage"); got["active"] != false {
		t.Fatalf("garbage active: %v", got)
	}
}

func TestRevokedUserAccessTokenRefusedByUserinfo(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	_, f, code := signedIn(t, env, ships)
	tok, _, _ := ships.exchange(t, f, code)
	if st, _ := userinfo(t, env, tok.AccessToken); st != 200 {
		t.Fatalf("userinfo before revocation: %d", st)
	}
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/revoke", strings.NewReader(url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ships", ships.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	if st, _ := userinfo(t, env, tok.AccessToken); st == 200 {
		t.Fatal("revoked JWT access token accepted by userinfo")
	}
}

func TestLogout(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, pass, _ := setup(t, backend)
		b, f, code := signedIn(t, env, ships)
		tok, _, _ := ships.exchange(t, f, code)
		raw := tok.Extra("id_token").(string)
		// A refresh token without offline_access ends with the session.
		_, f2, code2 := signedInWith(t, b, pass)
		pt, _, _ := pass.exchange(t, f2, code2)

		// Without a hint: a confirmation page, the session survives.
		resp := b.get(env.URL + "/end_session")
		page := body(t, resp)
		if !strings.Contains(page, "Do you want to sign out") {
			t.Fatalf("no confirmation page: %d %s", resp.StatusCode, page)
		}
		if f := b.authorize(ships, oauth2.SetAuthURLParam("prompt", "none")); f.redirectError(t) != "" {
			t.Fatal("a logout link without a hint ended the session")
		}
		// With the hint: straight to the registered post-logout URI with state.
		q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {"https://ships.example/"}, "state": {"xyz"}}
		resp = b.get(env.URL + "/end_session?" + q.Encode())
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || loc.String() != "https://ships.example/?state=xyz" {
			t.Fatalf("end_session redirect %v %v", loc, err)
		}
		// Unregistered post-logout URI: refused.
		q.Set("post_logout_redirect_uri", "https://evil.example/")
		resp = b.get(env.URL + "/end_session?" + q.Encode())
		resp.Body.Close()
		if l := resp.Header.Get("Location"); strings.HasPrefix(l, "https://evil.example") {
			t.Fatal("redirected to an unregistered post-logout URI")
		}
		// The session is gone: prompt=none answers login_required.
		if f := b.authorize(ships, oauth2.SetAuthURLParam("prompt", "none")); f.redirectError(t) != "login_required" {
			t.Fatal("prompt=none after logout did not answer login_required")
		}
		if pt.RefreshToken != "" {
			if st, out, _ := pass.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pt.RefreshToken}}); st == 200 {
				t.Fatalf("session-bound refresh token survived logout: %v", out)
			}
		}
	})
}

func signedInWith(t *testing.T, b *browser, r *rp) (*browser, *flow, string) {
	f := b.authorize(r)
	return b, f, f.code(t)
}

func TestLogoutConfirmationCannotRedirectAnywhere(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	b, _, _ := signedIn(t, env, ships)
	resp := b.post(env.URL+"/logout", url.Values{"post_logout_redirect_uri": {"https://evil.example/"}})
	resp.Body.Close()
	if l := resp.Header.Get("Location"); strings.Contains(l, "evil") {
		t.Fatal("open redirect through /logout")
	}
	resp = b.post(env.URL+"/logout", url.Values{"post_logout_redirect_uri": {"https://ships.example/?state=abc"}})
	resp.Body.Close()
	if l := resp.Header.Get("Location"); l != "https://ships.example/?state=abc" {
		t.Fatalf("registered URI with state refused: %d %q", resp.StatusCode, l)
	}
	_ = context.Background()
}

// A rotated refresh token presented by another client revokes its family
// (it has leaked, RFC 9700 §4.14.2) at once, even within
// tokens.refresh_reuse_grace, which is for its own client's retries; a
// live one is refused and its family left alone. Tokens carry their facts
// (refreshfacts.go), so this is decided from the stored record: op's own
// client check would refuse the token before any rotation.
func TestRefreshTokenFromAnotherClient(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Minute} {
		t.Run("grace "+grace.String(), func(t *testing.T) {
			eachBackend(t, func(t *testing.T, backend string) {
				env, ships, _, _ := setup(t, backend, func(o *hubtest.Options) {
					o.Config = func(c *config.Config) { c.Tokens.RefreshReuseGrace = config.Duration(grace) }
				})
				refreshFromAnotherClient(t, env, ships)
			})
		})
	}
}

func refreshFromAnotherClient(t *testing.T, env *hubtest.Env, ships *rp) {
	other := newRP(t, env, "other", "other-secret-0123456789-0123456789-abcd", "nk-ships")
	_, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	_, first, _ := ships.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {ships.oauth.RedirectURL}, "code_verifier": {f.verifier}})
	refresh := func(r *rp, rt string) (int, map[string]any) {
		st, out, _ := r.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		return st, out
	}
	rt1, _ := first["refresh_token"].(string)
	st, second := refresh(ships, rt1)
	if st != 200 {
		t.Fatalf("rotation: %d %v", st, second)
	}
	rt2 := second["refresh_token"].(string)
	if st, out := refresh(other, rt2); st != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("live token from another client: %d %v", st, out)
	}
	st, third := refresh(ships, rt2)
	if st != 200 {
		t.Fatalf("a live token refused to another client revoked its family: %d %v", st, third)
	}
	if st, out := refresh(other, rt2); st != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("rotated token from another client: %d %v", st, out)
	}
	if st, out := refresh(ships, third["refresh_token"].(string)); st != 400 {
		t.Fatalf("family not revoked after a rotated token came from another client: %d %v", st, out["error"])
	}
}
