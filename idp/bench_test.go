package idp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

// BenchmarkUserinfoHandler and BenchmarkIntrospectionHandler serve one
// access token again and again through the public handler in-process (no
// client, no sockets): hubid's own CPU and allocations per request
// (-benchmem), the part idp/tokencache changes.
func BenchmarkUserinfoHandler(b *testing.B) {
	env, r := benchSetup(b, "RS256")
	_, f, code := signedIn(b, env, r)
	tok, _, _ := r.exchange(b, f, code)
	benchHandler(b, env, func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, env.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return req
	})
}

func BenchmarkIntrospectionHandler(b *testing.B) {
	env, r := benchSetup(b, "RS256")
	_, f, code := signedIn(b, env, r)
	tok, _, _ := r.exchange(b, f, code)
	form := url.Values{"token": {tok.AccessToken}}.Encode()
	benchHandler(b, env, func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, env.URL+"/oauth/introspect", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(r.client.ID, r.secret)
		return req
	})
}

func benchHandler(b *testing.B, env *hubtest.Env, newReq func() *http.Request) {
	h := env.Server.Public()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq())
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"active":false`) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
