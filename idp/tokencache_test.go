package idp_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// The userinfo and introspection answers come from idp/oidcstore's
// TokenInfo over a cache of verified tokens (idp/tokencache). These tests
// hold it to op's answers and to the checks that must run on every
// request, cached or not.

// call sends req to h and returns the status, headers and body.
func call(t testing.TB, h http.Handler, req *http.Request) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Header(), string(b)
}

func userinfoReq(env *hubtest.Env, token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, env.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

func introspectReq(env *hubtest.Env, r *rp, token string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, env.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(r.client.ID, r.secret)
	return req
}

// cacheCounts scrapes the token cache's counters from /metrics.
func cacheCounts(t testing.TB, env *hubtest.Env) (hits, misses int) {
	t.Helper()
	_, _, body := call(t, env.Server.Internal(), httptest.NewRequest(http.MethodGet, "/metrics", nil))
	found := 0
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		switch name {
		case "hubid_token_cache_hits_total":
			hits, found = int(n), found+1
		case "hubid_token_cache_misses_total":
			misses, found = int(n), found+1
		}
	}
	if found != 2 {
		t.Fatal("the token cache counters are not in /metrics")
	}
	return hits, misses
}

// TestTokenCacheAnswersAsOpDoes: for JWT and opaque access tokens, with
// and without scope roles, userinfo and introspection answer the first
// time (verified) and the second (from the cache) with the very bytes op
// itself answers for the token; a user change shows at the next request.
func TestTokenCacheAnswersAsOpDoes(t *testing.T) {
	env, _, _, _ := setup(t, "embedded")
	ctx := context.Background()
	for _, tc := range []struct {
		name, scope string
		opaque      bool
	}{
		{"jwt", "openid profile email", false},
		{"jwt roles", "openid profile email roles", false},
		{"opaque", "openid profile email", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ships := newRP(t, env, "ships-"+strings.ReplaceAll(tc.name, " ", "-"), "ships-secret-0123456789-0123456789-abcd", "nk-ships")
			if tc.opaque {
				if _, err := env.Durable.UpdateClient(ctx, ships.client.ID, func(c *store.Client) error {
					c.AccessTokenType = store.AccessTokenOpaque
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			_, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", tc.scope))
			tok, _, _ := ships.exchange(t, f, code)
			if jwt := strings.Count(tok.AccessToken, ".") == 2; jwt == tc.opaque {
				t.Fatalf("access token %q: want opaque %v", tok.AccessToken, tc.opaque)
			}
			wantUI, wantIn := opAnswers(t, env, ships, tok.AccessToken)
			h0, m0 := cacheCounts(t, env)
			for i := range 2 {
				st, hdr, got := call(t, env.Server.Public(), userinfoReq(env, tok.AccessToken))
				if st != 200 || got != wantUI || hdr.Get("Content-Type") != "application/json" {
					t.Fatalf("userinfo #%d: %d %q %s\nop answers %s", i+1, st, hdr.Get("Content-Type"), got, wantUI)
				}
				st, _, got = call(t, env.Server.Public(), introspectReq(env, ships, tok.AccessToken))
				if st != 200 || got != wantIn {
					t.Fatalf("introspection #%d: %d %s\nop answers %s", i+1, st, got, wantIn)
				}
			}
			if h, m := cacheCounts(t, env); m-m0 != 1 || h-h0 != 3 {
				t.Fatalf("4 requests: %d misses and %d hits, want 1 and 3", m-m0, h-h0)
			}
			// A user change shows at once, from the cached token too.
			u, err := env.Durable.GetUserByEmail(ctx, "aiko@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.Durable.UpdateUser(ctx, u.ID, func(u *store.User) error {
				u.Name = "Aiko " + tc.name
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			wantUI, wantIn = opAnswers(t, env, ships, tok.AccessToken)
			if !strings.Contains(wantUI, `"Aiko `+tc.name+`"`) {
				t.Fatalf("op's answer lacks the new name: %s", wantUI)
			}
			if _, _, got := call(t, env.Server.Public(), userinfoReq(env, tok.AccessToken)); got != wantUI {
				t.Fatalf("userinfo after a user change: %s\nop answers %s", got, wantUI)
			}
			if _, _, got := call(t, env.Server.Public(), introspectReq(env, ships, tok.AccessToken)); got != wantIn {
				t.Fatalf("introspection after a user change: %s\nop answers %s", got, wantIn)
			}
		})
	}
}

// opAnswers returns op's own userinfo and introspection answers (the
// provider without the strict layer and the cache).
func opAnswers(t *testing.T, env *hubtest.Env, r *rp, token string) (userinfo, introspection string) {
	t.Helper()
	st, _, ui := call(t, env.Server.Provider, userinfoReq(env, token))
	if st != 200 {
		t.Fatalf("op userinfo: %d %s", st, ui)
	}
	st, _, in := call(t, env.Server.Provider, introspectReq(env, r, token))
	if st != 200 || !strings.Contains(in, `"active":true`) {
		t.Fatalf("op introspection: %d %s", st, in)
	}
	return ui, in
}

// checkRefused asserts that userinfo refuses token with 401 invalid_token
// and introspection calls it inactive.
func checkRefused(t *testing.T, env *hubtest.Env, r *rp, token, why string) {
	t.Helper()
	st, hdr, body := call(t, env.Server.Public(), userinfoReq(env, token))
	if st != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("userinfo %s: %d %q %s", why, st, hdr.Get("WWW-Authenticate"), body)
	}
	if st, _, body := call(t, env.Server.Public(), introspectReq(env, r, token)); st != 200 || body != "{\"active\":false}\n" {
		t.Fatalf("introspection %s: %d %s", why, st, body)
	}
}

// cachedToken signs in and calls userinfo twice, so the access token is
// in the cache (the second call a hit).
func cachedToken(t *testing.T, env *hubtest.Env, r *rp) string {
	t.Helper()
	_, f, code := signedIn(t, env, r)
	tok, _, _ := r.exchange(t, f, code)
	h0, _ := cacheCounts(t, env)
	for range 2 {
		if st, _, body := call(t, env.Server.Public(), userinfoReq(env, tok.AccessToken)); st != 200 {
			t.Fatalf("userinfo: %d %s", st, body)
		}
	}
	if h, _ := cacheCounts(t, env); h != h0+1 {
		t.Fatalf("the second userinfo was no cache hit (%d hits)", h-h0)
	}
	return tok.AccessToken
}

// TestTokenCacheRevokedTokenRefused: revocation is checked at every
// request, so a revoked token is refused although it is in the cache.
func TestTokenCacheRevokedTokenRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env, ships, _, _ := setup(t, backend)
		token := cachedToken(t, env, ships)
		if st, _, body := call(t, env.Server.Public(), introspectReq(env, ships, token)); !strings.Contains(body, `"active":true`) {
			t.Fatalf("introspection before revocation: %d %s", st, body)
		}
		req := httptest.NewRequest(http.MethodPost, env.URL+"/revoke", strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"access_token"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("ships", ships.secret)
		if st, _, body := call(t, env.Server.Public(), req); st != 200 {
			t.Fatalf("revoke: %d %s", st, body)
		}
		checkRefused(t, env, ships, token, "after revocation")
	})
}

// TestTokenCacheExpiredTokenRefused: a cached token is refused once the
// clock passes its expiry.
func TestTokenCacheExpiredTokenRefused(t *testing.T) {
	clk := storetest.NewClock(time.Now())
	env, ships, _, _ := setup(t, "embedded", func(o *hubtest.Options) { o.Now = clk.Now })
	token := cachedToken(t, env, ships)
	clk.Advance(env.Config.Tokens.AccessTTL.D() - time.Second)
	if st, _, body := call(t, env.Server.Public(), userinfoReq(env, token)); st != 200 {
		t.Fatalf("userinfo a second before expiry: %d %s", st, body)
	}
	_, m0 := cacheCounts(t, env)
	clk.Advance(2 * time.Second)
	checkRefused(t, env, ships, token, "after expiry")
	if _, m := cacheCounts(t, env); m == m0 {
		t.Fatal("the expired token was still a cache hit")
	}
}

// TestTokenCacheKeyChanges: a rotation of the signing keys empties the
// cache (the token is verified again, with the key now retired but still
// published: accepted); removing the token's key at once (a leak) makes
// the cached token fail.
func TestTokenCacheKeyChanges(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	ctx := context.Background()
	token := cachedToken(t, env, ships)
	_, m0 := cacheCounts(t, env)
	if _, err := env.Server.Keys.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	if st, _, body := call(t, env.Server.Public(), userinfoReq(env, token)); st != 200 {
		t.Fatalf("userinfo after a rotation: %d %s", st, body)
	}
	if _, m := cacheCounts(t, env); m != m0+1 {
		t.Fatalf("after a rotation: %d misses, want 1", m-m0)
	}
	if st, _, body := call(t, env.Server.Public(), userinfoReq(env, token)); st != 200 {
		t.Fatalf("userinfo, cached again: %d %s", st, body)
	}
	if _, err := env.Server.Keys.RetireNow(ctx, kidOf(t, token)); err != nil {
		t.Fatal(err)
	}
	checkRefused(t, env, ships, token, "after its key was removed")
}

// kidOf returns the kid in a JWT's header.
func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	h, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	var hdr struct{ Kid string }
	if err == nil {
		err = json.Unmarshal(b, &hdr)
	}
	if err != nil || hdr.Kid == "" {
		t.Fatalf("JWT header %q: %v", h, err)
	}
	return hdr.Kid
}
