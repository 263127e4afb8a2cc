package idp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// A person linked to login IDs of two services gets, from each service's
// client, only that service's IDs in the ID token, the JWT access token,
// userinfo and introspection; unlinking removes it at the next issue.
func TestGoldenLegacyIDsClaim(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	env.ApplySeed(t, "../deploy/dev/seed.yaml")
	ctx := context.Background()
	d := env.Durable
	u, err := d.GetUserByEmail(ctx, "admin@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	ships, _ := d.GetServiceByCode(ctx, "nk-ships")
	pass, _ := d.GetServiceByCode(ctx, "nk-pass")
	for _, l := range []store.LegacyLink{{UserID: u.ID, ServiceID: ships.ID, LoginID: "NKS-0001"}, {UserID: u.ID, ServiceID: pass.ID, LoginID: "NKP-0001"}} {
		if err := d.CreateLegacyLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	p, err := oidc.NewProvider(ctx, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(client, secret, redirect string) map[string]any {
		r := &rp{env: env, provider: p, secret: secret, verifier: p.Verifier(&oidc.Config{ClientID: client}),
			oauth: &oauth2.Config{ClientID: client, ClientSecret: secret, RedirectURL: redirect, Endpoint: p.Endpoint(),
				Scopes: []string{oidc.ScopeOpenID, "roles"}}}
		r.client.ID = client
		b := newBrowser(t, env)
		f := b.authorize(r)
		b.signIn(f, "admin@demo.example", "hubid-demo-password", false)
		tok, _, claims := r.exchange(t, f, f.code(t))
		_, info := userinfo(t, env, tok.AccessToken)
		at := map[string]any{}
		if parts := strings.Split(tok.AccessToken, "."); len(parts) == 3 {
			raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
			_ = json.Unmarshal(raw, &at)
		}
		in := introspect(t, env, r, tok.AccessToken)
		if in["active"] != true {
			t.Fatalf("introspection: %v", in)
		}
		return map[string]any{"id_token": claims["legacy_ids"], "userinfo": info["legacy_ids"], "access_token": at["legacy_ids"],
			"introspection": in["legacy_ids"]}
	}
	out := map[string]any{
		"nk-ships": issue("nk-ships-demo", "nk-ships-demo-secret-not-for-production-0001", "http://localhost:9001/callback"),
		"nk-pass":  issue("nk-pass-demo", "nk-pass-demo-secret-not-for-production-00001", "http://localhost:9002/callback"),
	}
	if err := d.DeleteLegacyLink(ctx, u.ID, ships.ID); err != nil {
		t.Fatal(err)
	}
	out["nk-ships after unlink"] = issue("nk-ships-demo", "nk-ships-demo-secret-not-for-production-0001", "http://localhost:9001/callback")
	golden(t, "legacy_ids_claims.json", out)
}
