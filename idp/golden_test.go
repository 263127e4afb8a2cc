package idp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/hubtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares v (as indented JSON) with testdata/name.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./idp -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if intended):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// normalize replaces values that change per run.
func normalize(m map[string]any, issuer string, volatile ...string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if s, ok := v.(string); ok && strings.Contains(s, issuer) {
			v = strings.ReplaceAll(s, issuer, "ISSUER")
		}
		for _, vk := range volatile {
			if k == vk {
				v = "<" + k + ">"
			}
		}
		out[k] = v
	}
	return out
}

func TestGoldenDiscovery(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	resp, err := http.Get(env.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
		t.Errorf("discovery Cache-Control %q", cc)
	}
	b, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	golden(t, "discovery.json", normalize(doc, env.URL))
}

func TestGoldenSeededUsersClaims(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	env.ApplySeed(t, "../deploy/dev/seed.yaml")
	p, err := oidc.NewProvider(context.Background(), env.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := &rp{env: env, provider: p, secret: "nk-ships-demo-secret-not-for-production-0001",
		verifier: p.Verifier(&oidc.Config{ClientID: "nk-ships-demo"}),
		oauth: &oauth2.Config{ClientID: "nk-ships-demo", ClientSecret: "nk-ships-demo-secret-not-for-production-0001",
			RedirectURL: "http://localhost:9001/callback", Endpoint: p.Endpoint(),
			Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}}
	r.client.ID = "nk-ships-demo"
	volatile := []string{"sub", "iat", "exp", "auth_time", "nonce", "sid", "at_hash", "c_hash", "updated_at", "jti", "nbf"}
	out := map[string]any{}
	for _, email := range []string{"admin@demo.example", "normal@demo.example", "visitor@demo.example"} {
		b := newBrowser(t, env)
		f := b.authorize(r)
		b.signIn(f, email, "hubid-demo-password", false)
		tok, idt, claims := r.exchange(t, f, f.code(t))
		st, info := userinfo(t, env, tok.AccessToken)
		if st != 200 || info["sub"] != idt.Subject {
			t.Fatalf("%s: userinfo %d %v", email, st, info)
		}
		out[email] = map[string]any{
			"id_token": normalize(claims, env.URL, volatile...),
			"userinfo": normalize(info, env.URL, volatile...),
		}
	}
	golden(t, "seeded_claims.json", out)
}
