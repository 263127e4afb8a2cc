package idp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
)

// A Redis outage gives clear answers (503 page, OAuth
// temporarily_unavailable, 503 on the token endpoint) and service resumes
// by itself when Redis is back.
func TestRedisOutageFailsClearlyAndRecovers(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Backend: "external", RedisProxy: true})
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	b, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	tok, _, _ := ships.exchange(t, f, code)

	env.RedisProxy.SetDown(true)
	// The hub page (session lookup): a translated 503 page.
	resp := b.get(env.URL + "/")
	page := body(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "temporarily unavailable") {
		t.Fatalf("hub page during the outage: %d\n%s", resp.StatusCode, page)
	}
	// A new authorization request: temporarily_unavailable to the client.
	f2 := newBrowser(t, env).authorize(ships)
	if e := f2.redirectError(t); e != "temporarily_unavailable" {
		t.Fatalf("authorize during the outage: %q", e)
	}
	// Refresh: 503 temporarily_unavailable.
	st, out, h := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if st != http.StatusServiceUnavailable || out["error"] != "temporarily_unavailable" || h.Get("Retry-After") == "" {
		t.Fatalf("refresh during the outage: %d %v", st, out)
	}

	env.RedisProxy.SetDown(false)
	// Service resumes without a restart, and nothing was half-written: the
	// refresh token that failed still works once.
	st, out, _ = ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if st != http.StatusOK {
		t.Fatalf("refresh after the outage: %d %v", st, out)
	}
	resp = b.get(env.URL + "/")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("hub page after the outage: %d", resp.StatusCode)
	}
}

// While Redis replays its data set it answers every command with LOADING
// (and a transaction with EXECABORT): a refresh is then 503
// temporarily_unavailable, never invalid_grant, which would make the
// client throw away a good token; the token works once Redis is back.
func TestRedisLoadingIsTemporarilyUnavailable(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Backend: "external", RedisProxy: true})
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	_, f, code := signedIn(t, env, ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	tok, _, _ := ships.exchange(t, f, code)

	env.RedisProxy.RedisError("LOADING Redis is loading the dataset in memory")
	st, out, h := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if st != http.StatusServiceUnavailable || out["error"] != "temporarily_unavailable" || h.Get("Retry-After") == "" {
		t.Fatalf("refresh while Redis loads: %d %v", st, out)
	}
	env.RedisProxy.Pass()
	st, out, _ = ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if st != http.StatusOK {
		t.Fatalf("refresh once Redis has loaded: %d %v", st, out)
	}
}

// A PostgreSQL outage is "temporarily unavailable", never the person's or
// the service's fault: /authorize for a client not yet cached shows the
// 503 page (not 400 "the request from the service is invalid"), and
// sign-in attempts that end in the outage do not count against the
// account, so a person who kept retrying signs in as soon as the database
// is back.
func TestPostgresOutageLocksNobodyOut(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Backend: "external", PostgresProxy: true, Config: func(c *config.Config) {
		c.Throttle.DelayAfter, c.Throttle.LockAfter = 2, 3
	}})
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	docks := newRP(t, env, "docks", "docks-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	b := newBrowser(t, env)
	f := b.authorize(ships)
	id := f.authRequestID()
	if id == "" {
		t.Fatalf("not on the sign-in page: %s", f.resp.Status)
	}
	f.resp.Body.Close()
	resp := b.post(b.url("/login/email"), url.Values{"authRequestID": {id}, "email": {"aiko@example.com"}})
	drain(resp)

	env.PostgresProxy.SetDown(true)
	// The right page for the right failure.
	f2 := newBrowser(t, env).authorize(docks)
	page := body(t, f2.resp)
	if f2.resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "temporarily unavailable") {
		t.Fatalf("authorize during the outage: %d\n%s", f2.resp.StatusCode, page)
	}
	// Retrying more often than the lock threshold: every try is a 503.
	for i := range env.Config.Throttle.LockAfter + 2 {
		resp := b.post(b.url("/login/password"), url.Values{"authRequestID": {id}, "password": {testPassword}})
		if page := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "temporarily unavailable") {
			t.Fatalf("sign-in %d during the outage: %d\n%s", i, resp.StatusCode, page)
		}
	}

	env.PostgresProxy.SetDown(false)
	f.resp = b.post(b.url("/login/password"), url.Values{"authRequestID": {id}, "password": {testPassword}})
	code := f.code(t)
	if tok, _, _ := ships.exchange(t, f, code); tok.AccessToken == "" {
		t.Fatal("no access token after the outage")
	}
	// A client error is still a client error once the database is back.
	f3 := newBrowser(t, env).authorize(&rp{oauth: &oauth2.Config{ClientID: "nobody", RedirectURL: "https://nobody.example/cb", Endpoint: ships.oauth.Endpoint}})
	if page := body(t, f3.resp); f3.resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown client: %d\n%s", f3.resp.StatusCode, page)
	}
}

// A hung Redis (the proxy accepts and never answers, and the client has
// no timeout of its own) ends at the request's deadline with 503
// temporarily_unavailable: nothing but the context deadline can end the
// call here, so the request finishing at all proves it is inherited.
func TestHungRedisEndsAtTheRequestDeadline(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Backend: "external", RedisProxy: true, RedisTimeout: -1, Config: func(c *config.Config) {
		c.Listen.RequestTimeout = config.Duration(200 * time.Millisecond)
	}})
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	env.RedisProxy.BlackHole()
	// Runs before the server's cleanup, which would otherwise wait for a
	// hung handler forever.
	t.Cleanup(env.RedisProxy.Pass)
	// A guard far above the deadline, so that a regression fails instead
	// of hanging the test run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"family.secret"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ships.provider.Endpoint().TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ships", ships.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("refresh against a hung Redis never ended: %v", err)
	}
	defer drain(resp)
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusServiceUnavailable || out["error"] != "temporarily_unavailable" {
		t.Fatalf("refresh against a hung Redis: %d %v", resp.StatusCode, out)
	}
	env.RedisProxy.Pass()
}
