package idp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/internal/testenv"
)

// faultEnv is hubid on PostgreSQL and Redis, each behind a fault proxy,
// with a short request deadline, a person signed in with SSO and a
// refresh token.
type faultEnv struct {
	env     *hubtest.Env
	ships   *rp
	b       *browser
	refresh string
}

func newFaultEnv(t *testing.T) *faultEnv {
	env := hubtest.New(t, hubtest.Options{Backend: "external", RedisProxy: true, PostgresProxy: true, Config: func(c *config.Config) {
		c.Listen.RequestTimeout = config.Duration(300 * time.Millisecond)
	}})
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	b, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	tok, _, _ := ships.exchange(t, f, code)
	// Runs before the server's cleanup, which waits for handlers.
	t.Cleanup(func() { env.RedisProxy.Pass(); env.PostgresProxy.Pass() })
	return &faultEnv{env: env, ships: ships, b: b, refresh: tok.RefreshToken}
}

// readyz asks the internal listener's /readyz.
func (e *faultEnv) readyz(t *testing.T) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.env.Server.Internal().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var out struct{ Checks map[string]string }
	_ = json.NewDecoder(rec.Body).Decode(&out)
	return rec.Code, out.Checks
}

// ssoOutcome runs an authorization request in the signed-in browser and
// says what the relying party or the person got: "code", "unavailable"
// (the OAuth error temporarily_unavailable, or the 503 page) or something
// else, described.
func (e *faultEnv) ssoOutcome(t *testing.T) string {
	t.Helper()
	f := e.b.authorize(e.ships)
	defer drain(f.resp)
	if loc, err := f.resp.Location(); err == nil {
		q := loc.Query()
		switch {
		case q.Get("code") != "":
			return "code"
		case q.Get("error") == "temporarily_unavailable":
			return "unavailable"
		}
		return "redirect " + loc.Redacted()
	}
	page := body(t, f.resp)
	if f.resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(page, "temporarily unavailable") {
		return "unavailable"
	}
	return f.resp.Status + " " + f.resp.Request.URL.Path
}

// refreshOutcome refreshes the current token: "ok" (and keeps the
// successor), "unavailable" (503 temporarily_unavailable) or the error.
func (e *faultEnv) refreshOutcome(t *testing.T) string {
	t.Helper()
	st, out, _ := e.ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {e.refresh}})
	switch {
	case st == http.StatusOK:
		e.refresh, _ = out["refresh_token"].(string)
		return "ok"
	case st == http.StatusServiceUnavailable && out["error"] == "temporarily_unavailable":
		return "unavailable"
	}
	b, _ := json.Marshal(out)
	return http.StatusText(st) + " " + string(b)
}

// recovered waits (20 ms polls, 5 s at most) until /readyz, SSO and
// refresh all work again, and returns how long that took.
func (e *faultEnv) recovered(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		code, _ := e.readyz(t)
		if code == http.StatusOK && e.ssoOutcome(t) == "code" && e.refreshOutcome(t) == "ok" {
			return time.Since(start)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("not back to full service within 5 s of the recovery")
		}
		time.Sleep(20 * time.Millisecond) // a poll interval, not a wait for an event
	}
}

// goroutinesSettle waits (5 s at most) until the process runs no more
// goroutines than base plus a small allowance for idle pool connections.
func goroutinesSettle(t *testing.T, base int) {
	t.Helper()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base+8 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutine leak: %d running, %d before the faults\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDependencyFaults puts each fault of a real network in front of
// PostgreSQL and then Redis — a half-open connection that never answers,
// an outage, connection resets, added latency — and checks for each:
// every request ends (within the request deadline, 300 ms here), no code
// is issued without a verified session, people and services are told
// "temporarily unavailable", /readyz names the dependency, full service
// is back within 5 s of the recovery, and no goroutine is left behind.
//
// The outages here last as long as the requests the test sends during
// them: hubid has no timer that an outage's length could trip (the
// deadlines are per request), so a 60 s outage behaves as a short one.
func TestDependencyFaults(t *testing.T) {
	e := newFaultEnv(t)
	// Warm up: pools, caches, the revocation subscription.
	_ = e.ssoOutcome(t)
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()

	deps := []struct {
		name string
		px   *testenv.Proxy
	}{
		{"postgres", e.env.PostgresProxy},
		{"redis", e.env.RedisProxy},
	}
	for _, d := range deps {
		for _, fault := range []struct {
			name string
			on   func()
		}{
			{"half-open", d.px.BlackHole},
			{"outage", func() { d.px.SetDown(true) }},
		} {
			t.Run(d.name+"/"+fault.name, func(t *testing.T) {
				fault.on()
				code, checks := e.readyz(t)
				if code != http.StatusServiceUnavailable || checks[d.name] != "down" {
					t.Errorf("/readyz: %d %v, want 503 naming %s", code, checks, d.name)
				}
				for other, state := range checks {
					if other != d.name && state != "ok" {
						t.Errorf("/readyz: %s is %s, only %s is at fault", other, state, d.name)
					}
				}
				// Redis holds the session: without it no session is
				// verified, so no code. Without PostgreSQL the person's
				// entitlement cannot be checked: no code either.
				if got := e.ssoOutcome(t); got != "unavailable" {
					t.Errorf("SSO during the fault: %s, want temporarily unavailable", got)
				}
				// A refresh told "unavailable" must leave the token it
				// presented valid: recovered refreshes with it again.
				if got := e.refreshOutcome(t); got != "unavailable" && !(d.name == "postgres" && got == "ok") {
					t.Errorf("refresh during the fault: %s", got)
				}
				hub := e.b.get(e.env.URL + "/")
				if page := body(t, hub); hub.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "temporarily unavailable") {
					if !(d.name == "postgres" && hub.StatusCode == http.StatusOK) {
						t.Errorf("hub page during the fault: %d", hub.StatusCode)
					}
				}
				d.px.Pass()
				t.Logf("full service %v after the recovery", e.recovered(t).Round(time.Millisecond))
			})
		}
	}
	t.Run("resets", func(t *testing.T) {
		e.env.PostgresProxy.Reset()
		e.env.RedisProxy.Reset()
		// A reset connection is replaced: at worst one clean failure.
		for _, got := range []string{e.ssoOutcome(t), e.refreshOutcome(t)} {
			if got != "code" && got != "ok" && got != "unavailable" {
				t.Errorf("after a reset: %s", got)
			}
		}
		e.recovered(t)
	})
	t.Run("latency", func(t *testing.T) {
		for _, px := range []*testenv.Proxy{e.env.PostgresProxy, e.env.RedisProxy} {
			defer px.SetLatency(0)
			// A little latency on each chunk each way: slower, and
			// still inside the request deadline.
			px.SetLatency(2 * time.Millisecond)
			if got := e.ssoOutcome(t); got != "code" {
				t.Errorf("SSO with a little latency: %s", got)
			}
			if got := e.refreshOutcome(t); got != "ok" {
				t.Errorf("refresh with a little latency: %s", got)
			}
			// Latency past the deadline: the request ends at the
			// deadline, temporarily unavailable.
			px.SetLatency(time.Second)
			if got := e.ssoOutcome(t); got != "unavailable" {
				t.Errorf("SSO with latency past the deadline: %s", got)
			}
			px.SetLatency(0)
			e.recovered(t)
		}
	})
	goroutinesSettle(t, base)
}
