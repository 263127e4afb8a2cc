package idp_test

import (
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
)

// In-process endpoint benchmarks on the embedded backends (SQLite +
// memory): hubid's own cost per request, for profiling
// (go test -run '^$' -bench . -cpuprofile cpu.out ./idp). cmd/hubid-bench
// measures the deployed shape on PostgreSQL + Redis.

func benchSetup(b *testing.B, alg string) (*hubtest.Env, *rp) {
	return benchSetupOn(b, "embedded", alg)
}

func benchSetupOn(b *testing.B, backend, alg string) (*hubtest.Env, *rp) {
	env := hubtest.New(b, hubtest.Options{Backend: backend, Config: func(c *config.Config) {
		c.Keys.Algorithms = []string{"RS256", "ES256"}
		c.Tokens.IDTokenSigningAlgorithm = alg
	}})
	r := newRP(b, env, "bench", "bench-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(b, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	return env, r
}

func benchRefresh(b *testing.B, backend, alg string) {
	env, r := benchSetupOn(b, backend, alg)
	_, f, code := signedIn(b, env, r, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	tok, _, _ := r.exchange(b, f, code)
	rt := tok.RefreshToken
	b.ResetTimer()
	for b.Loop() {
		st, out, _ := r.tokenRequest(b, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if st != http.StatusOK {
			b.Fatalf("%d %v", st, out)
		}
		rt = out["refresh_token"].(string)
	}
}

func BenchmarkRefreshRS256(b *testing.B) { benchRefresh(b, "embedded", "RS256") }
func BenchmarkRefreshES256(b *testing.B) { benchRefresh(b, "embedded", "ES256") }

// BenchmarkRefreshES256External runs on PostgreSQL + Redis (skipped when
// they are absent, outside CI).
func BenchmarkRefreshES256External(b *testing.B) { benchRefresh(b, "external", "ES256") }

func BenchmarkClientCredentialsRS256(b *testing.B) {
	_, r := benchSetup(b, "RS256")
	for b.Loop() {
		if st, out, _ := r.tokenRequest(b, url.Values{"grant_type": {"client_credentials"}}); st != http.StatusOK {
			b.Fatalf("%d %v", st, out)
		}
	}
}

func BenchmarkUserinfo(b *testing.B) {
	env, r := benchSetup(b, "RS256")
	_, f, code := signedIn(b, env, r)
	tok, _, _ := r.exchange(b, f, code)
	b.ResetTimer()
	for b.Loop() {
		if st, _ := userinfo(b, env, tok.AccessToken); st != http.StatusOK {
			b.Fatal(st)
		}
	}
}

func BenchmarkDiscovery(b *testing.B) {
	env, _ := benchSetup(b, "RS256")
	for b.Loop() {
		resp, err := http.Get(env.URL + "/.well-known/openid-configuration")
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(err, resp.Status)
		}
		drain(resp)
	}
}

// BenchmarkSignIn is the whole sign-in with the default argon2id: a new
// browser, the two sign-in pages, the callback and the code exchange.
func BenchmarkSignIn(b *testing.B) {
	def := config.Defaults()
	env := hubtest.New(b, hubtest.Options{Config: func(c *config.Config) { c.Password = def.Password }})
	r := newRP(b, env, "bench", "bench-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(b, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	b.ResetTimer()
	for b.Loop() {
		_, f, code := signedIn(b, env, r)
		r.exchange(b, f, code)
	}
}
