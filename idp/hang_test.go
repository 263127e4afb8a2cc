package idp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
)

// TestNoRouteHangsOnHungDependencies sends a request to every kind of
// public route — pages signed in and not, the OAuth endpoints with a
// client's credentials and a bearer token — all at once while PostgreSQL
// and Redis both sit behind a half-open connection that never answers, and
// the Redis client has no timeout of its own. Only the request deadline
// (listen.request_timeout, httpx.Deadline) can end what waits on them, so
// every request coming back proves that no handler, background step or
// storage call escapes it; a request that hangs is ended by the test's
// one-minute guard and named. None may answer 500: a hung dependency is
// "temporarily unavailable" (503), and routes served from memory answer
// as usual. The internal listener answers too: /readyz within its own
// bound, naming both dependencies. No goroutine is left behind.
//
// TestDependencyFaults covers the sign-in, SSO, refresh and hub flows
// through each fault; this test covers the breadth of routes.
func TestNoRouteHangsOnHungDependencies(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Backend: "external", RedisProxy: true, PostgresProxy: true, RedisTimeout: -1,
		Config: func(c *config.Config) { c.Listen.RequestTimeout = config.Duration(300 * time.Millisecond) }})
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	b, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	tok, _, _ := ships.exchange(t, f, code)
	f2 := newBrowser(t, env).authorize(ships) // a pending sign-in
	pending := f2.authRequestID()
	drain(f2.resp)
	// Runs before the server's cleanup, which waits for handlers.
	t.Cleanup(func() { env.RedisProxy.Pass(); env.PostgresProxy.Pass() })
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()

	type call struct {
		method, path string
		form         url.Values
		auth         string // "basic" (the client), "bearer" (the access token) or ""
	}
	calls := []call{
		{"GET", "/", nil, ""},
		{"GET", "/account", nil, ""},
		{"GET", "/account/history", nil, ""},
		{"GET", "/account/mfa", nil, ""},
		{"POST", "/account/profile", url.Values{"name": {"Aiko"}}, ""},
		{"GET", "/console/", nil, ""},
		{"GET", "/login?authRequestID=" + pending, nil, ""},
		{"POST", "/login/email", url.Values{"authRequestID": {pending}, "email": {"aiko@example.com"}}, ""},
		{"POST", "/login/password", url.Values{"authRequestID": {pending}, "password": {testPassword}}, ""},
		{"GET", "/forgot", nil, ""},
		{"POST", "/forgot", url.Values{"email": {"aiko@example.com"}}, ""},
		{"GET", "/preregister", nil, ""},
		{"GET", "/logout", nil, ""},
		{"GET", ships.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil, ""},
		{"POST", "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, "basic"},
		{"POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "basic"},
		{"POST", "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}, "redirect_uri": {ships.oauth.RedirectURL}}, "basic"},
		{"GET", "/userinfo", nil, "bearer"},
		{"POST", "/oauth/introspect", url.Values{"token": {tok.AccessToken}}, "basic"},
		{"POST", "/revoke", url.Values{"token": {tok.RefreshToken}}, "basic"},
		{"GET", "/keys", nil, ""},
		{"GET", "/.well-known/openid-configuration", nil, ""},
	}

	env.RedisProxy.BlackHole()
	env.PostgresProxy.BlackHole()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard, not a bound under test
	defer cancel()
	var wg sync.WaitGroup
	results := make([]string, len(calls))
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := c.path
			if strings.HasPrefix(target, "/") {
				target = env.URL + target
			}
			var body *strings.Reader
			if c.form != nil {
				body = strings.NewReader(c.form.Encode())
			} else {
				body = strings.NewReader("")
			}
			req, _ := http.NewRequestWithContext(ctx, c.method, target, body)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if c.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			switch c.auth {
			case "basic":
				req.SetBasicAuth(url.QueryEscape(ships.client.ID), url.QueryEscape(ships.secret))
			case "bearer":
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			}
			resp, err := b.http.Do(req)
			switch {
			case err != nil:
				results[i] = "no answer: " + err.Error()
			case resp.StatusCode == http.StatusInternalServerError:
				results[i] = "500"
				drain(resp)
			default:
				drain(resp)
			}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r != "" {
			t.Errorf("%s %s with both dependencies hung: %s", calls[i].method, calls[i].path, r)
		}
	}

	rec := httptest.NewRecorder()
	env.Server.Internal().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"postgres"`) || !strings.Contains(rec.Body.String(), `"redis"`) {
		t.Errorf("/readyz: %d %s, want 503 naming postgres and redis", rec.Code, rec.Body)
	}
	env.RedisProxy.Pass()
	env.PostgresProxy.Pass()
	b.http.CloseIdleConnections()
	goroutinesSettle(t, base)
}
