package idp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// jwtHeader returns the protected header of a compact JWS.
func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	h, _, ok := strings.Cut(token, ".")
	if !ok {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// verifyWithJWKS verifies a JWS against the published key set the way a
// resource server does (go-oidc's remote key set, /keys).
func verifyWithJWKS(t *testing.T, env *hubtest.Env, token string) {
	t.Helper()
	ks := oidc.NewRemoteKeySet(context.Background(), env.URL+"/keys")
	if _, err := ks.VerifySignature(context.Background(), token); err != nil {
		t.Fatalf("verify against /keys: %v", err)
	}
}

// TestRefreshWithoutIDTokenAndES256AccessTokens: a client registered with
// refresh_id_token false and access_token_signing_algorithm ES256 gets
// refresh responses without an ID token and ES256 access tokens that
// verify against /keys and are accepted by userinfo and introspection; its
// client_credentials tokens are ES256 too. A client with the defaults in
// the same provider still gets an RS256 access token and an ID token on
// every refresh.
func TestRefreshWithoutIDTokenAndES256AccessTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		env := hubtest.New(t, hubtest.Options{Backend: backend})
		lean := newRPWith(t, env, "lean", "lean-secret-0123456789-0123456789-abcd", "nk-ships", func(c *store.Client) {
			c.OmitRefreshIDToken, c.AccessTokenSigningAlgorithm = true, "ES256"
		})
		ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "nk-ships")
		env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "NK1", Service: "nk-ships"})
		if err := env.Server.Keys.EnsureAlgorithm(context.Background(), "ES256"); err != nil {
			t.Fatal(err)
		}
		scope := oauth2.SetAuthURLParam("scope", "openid profile offline_access roles")

		_, f, code := signedIn(t, env, lean, scope)
		st, first, _ := lean.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {lean.oauth.RedirectURL}, "code_verifier": {f.verifier}})
		if st != 200 || first["id_token"] == nil {
			t.Fatalf("code exchange: %d %v (the code grant keeps its ID token)", st, first)
		}
		if h := jwtHeader(t, first["id_token"].(string)); h["alg"] != "RS256" {
			t.Fatalf("ID token alg %v, want RS256", h["alg"])
		}
		if h := jwtHeader(t, first["access_token"].(string)); h["alg"] != "ES256" {
			t.Fatalf("code exchange access token alg %v, want ES256", h["alg"])
		}

		st, second, _ := lean.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}})
		if st != 200 {
			t.Fatalf("refresh: %d %v", st, second)
		}
		if _, ok := second["id_token"]; ok {
			t.Fatalf("refresh answered an id_token for a client with refresh_id_token false: %v", second)
		}
		if second["refresh_token"] == nil || second["refresh_token"] == first["refresh_token"] || second["token_type"] != "Bearer" {
			t.Fatalf("refresh response: %v", second)
		}
		at := second["access_token"].(string)
		h := jwtHeader(t, at)
		if h["alg"] != "ES256" || h["kid"] == nil {
			t.Fatalf("refreshed access token header %v, want alg ES256 with a kid", h)
		}
		verifyWithJWKS(t, env, at)
		if st, info := userinfo(t, env, at); st != 200 || info["sub"] == nil || info["orgs"] == nil {
			t.Fatalf("userinfo with the ES256 access token: %d %v", st, info)
		}
		if in := introspect(t, env, lean, at); in["active"] != true || in["client_id"] != "lean" {
			t.Fatalf("introspection of the ES256 access token: %v", in)
		}

		// client_credentials: the access token is ES256 as well.
		st, cc, _ := lean.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}})
		if st != 200 {
			t.Fatalf("client_credentials: %d %v", st, cc)
		}
		if h := jwtHeader(t, cc["access_token"].(string)); h["alg"] != "ES256" {
			t.Fatalf("client_credentials access token alg %v, want ES256", h["alg"])
		}
		verifyWithJWKS(t, env, cc["access_token"].(string))

		// The default client: unchanged.
		_, f, code = signedIn(t, env, ships, scope)
		_, d1, _ := ships.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {ships.oauth.RedirectURL}, "code_verifier": {f.verifier}})
		st, d2, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {d1["refresh_token"].(string)}})
		if st != 200 || d2["id_token"] == nil {
			t.Fatalf("default client refresh: %d %v, want an id_token", st, d2)
		}
		if h := jwtHeader(t, d2["access_token"].(string)); h["alg"] != "RS256" {
			t.Fatalf("default client access token alg %v, want RS256", h["alg"])
		}
		if _, err := ships.verifier.Verify(context.Background(), d2["id_token"].(string)); err != nil {
			t.Fatalf("default client refreshed ID token: %v", err)
		}
	})
}

// TestES256KeyCreatedOnFirstUse: a client given ES256 after start-up (no
// ES256 key held yet) gets an RS256 access token, which verifies
// everywhere, while its first use creates the ES256 keys; the tokens
// after that are ES256, and /keys publishes both algorithms.
func TestES256KeyCreatedOnFirstUse(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Backend: "embedded"})
	lean := newRPWith(t, env, "lean", "lean-secret-0123456789-0123456789-abcd", "nk-ships", func(c *store.Client) {
		c.AccessTokenSigningAlgorithm = "ES256"
	})
	for _, a := range env.Server.Keys.Algorithms() {
		if a == "ES256" {
			t.Fatal("ES256 is held before any client used it; this test needs it absent")
		}
	}
	changed := env.Server.Keys.Changed()
	st, cc, _ := lean.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}})
	if st != 200 {
		t.Fatalf("client_credentials: %d %v", st, cc)
	}
	if h := jwtHeader(t, cc["access_token"].(string)); h["alg"] != "RS256" {
		t.Fatalf("before the ES256 key exists: alg %v, want the RS256 fallback", h["alg"])
	}
	<-changed // the ES256 keys were created and loaded
	st, cc, _ = lean.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}})
	if h := jwtHeader(t, cc["access_token"].(string)); st != 200 || h["alg"] != "ES256" {
		t.Fatalf("after the ES256 key exists: %d alg %v, want ES256", st, h["alg"])
	}
	verifyWithJWKS(t, env, cc["access_token"].(string))
	var set struct {
		Keys []struct{ Alg string } `json:"keys"`
	}
	resp := newBrowser(t, env).get(env.URL + "/keys")
	if err := json.Unmarshal([]byte(body(t, resp)), &set); err != nil {
		t.Fatal(err)
	}
	algs := map[string]int{}
	for _, k := range set.Keys {
		algs[k.Alg]++
	}
	if algs["RS256"] < 2 || algs["ES256"] != 2 {
		t.Fatalf("/keys algorithms %v, want active and next keys of RS256 and ES256", algs)
	}
}

// TestAdminAPIAcceptsES256AccessTokens: an admin client whose access
// tokens are ES256 gets into the admin API with its hubid:admin token,
// and that token's revocation still shuts it out.
func TestAdminAPIAcceptsES256AccessTokens(t *testing.T) {
	a := newAdminEnv(t, "embedded")
	_, err := a.env.Durable.UpdateClient(context.Background(), "ops", func(c *store.Client) error {
		c.AccessTokenSigningAlgorithm = "ES256"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.env.Server.Keys.EnsureAlgorithm(context.Background(), "ES256"); err != nil {
		t.Fatal(err)
	}
	admin := ccToken(t, a.ops, "hubid:admin")
	if h := jwtHeader(t, admin); h["alg"] != "ES256" {
		t.Fatalf("admin client token alg %v, want ES256", h["alg"])
	}
	if st, b := a.call(t, "GET", "/admin/v1/organizations", admin); st != 200 {
		t.Fatalf("ES256 hubid:admin token: %d %s", st, b)
	}
	revoke(t, a.ops, admin)
	if st, b := a.call(t, "GET", "/admin/v1/organizations", admin); st != 401 {
		t.Fatalf("revoked ES256 token: %d %s", st, b)
	}
}
