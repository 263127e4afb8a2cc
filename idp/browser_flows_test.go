package idp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/browsertest"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// browserRP is a relying party the browser can reach: its callback page
// records the query it was sent.
type browserRP struct {
	oauth *oauth2.Config
	mu    sync.Mutex
	got   url.Values
}

func newBrowserRP(t *testing.T, env *hubtest.Env, id, service string) *browserRP {
	t.Helper()
	r := &browserRP{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/callback" {
			http.NotFound(w, req) // the browser asks for /favicon.ico too
			return
		}
		r.mu.Lock()
		r.got = req.URL.Query()
		r.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!DOCTYPE html><html lang="en"><title>RP</title><h1 id="rp-callback">back at the service</h1></html>`))
	}))
	t.Cleanup(srv.Close)
	env.AddClient(t, store.Client{ID: id, Name: strings.ToUpper(id), ServiceID: env.EnsureService(t, service).ID,
		RedirectURIs: []string{srv.URL + "/callback"}}, "")
	r.oauth = &oauth2.Config{ClientID: id, RedirectURL: srv.URL + "/callback",
		Endpoint: oauth2.Endpoint{AuthURL: env.URL + "/authorize", TokenURL: env.URL + "/oauth/token"},
		Scopes:   []string{"openid", "profile", "email"}}
	return r
}

// authURL is an authorization request with PKCE S256.
func (r *browserRP) authURL(state string) string {
	return r.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
}

// callback is the query the service's callback received.
func (r *browserRP) callback() url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}

// TestBrowserForgot: a person signing in to a service forgets the
// password; the forgot page has the address typed, and after the reset
// through the dev mailbox the person signs in again and arrives at the
// service with a code, not at the hub.
func TestBrowserForgot(t *testing.T) {
	env := browserEnv(t)
	rp := newBrowserRP(t, env, "harbour", "harbour-svc")
	env.AddUser(t, hubtest.User{Email: "lena@example.com", Password: testPassword, Name: "Lena", Org: "HB0001", Service: "harbour-svc"})
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(rp.authURL("state-forgot")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "lena@example.com"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a[href^='/forgot?authRequestID=']")),
		chromedp.Click(chromedp.CSS("a[href^='/forgot?authRequestID=']")),
		chromedp.WaitVisible(chromedp.CSS("form[action='/forgot'] #email")),
	); err != nil {
		t.Fatalf("to /forgot: %v\n%s", err, browsertest.Text(t, ctx))
	}
	typed, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#email")))
	if err != nil {
		t.Fatal(err)
	}
	if typed != "lena@example.com" {
		t.Fatalf("the forgot page must be filled in with the address typed, got %q", typed)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitNotPresent(chromedp.CSS("form[action='/forgot']")),
	); err != nil {
		t.Fatalf("submit /forgot: %v", err)
	}
	deliverMail(t, env)
	const newPassword = "a lantern by the harbour at dusk"
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/dev/mail/"),
		chromedp.Click(chromedp.CSS("td a")),
		chromedp.WaitVisible(chromedp.CSS("pre a")),
		chromedp.Click(chromedp.CSS("pre a")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), newPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a[href^='/login?authRequestID=']")),
	); err != nil {
		t.Fatalf("reset through the mailbox: %v\n%s", err, browsertest.Text(t, ctx))
	}
	if text := browsertest.Text(t, ctx); !strings.Contains(text, "HARBOUR") {
		t.Fatalf("the done page must name the service:\n%s", text)
	}
	browsertest.Screenshot(t, ctx, "reset-done-return")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("a[href^='/login?authRequestID=']")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#rp-callback")),
	); err != nil {
		t.Fatalf("back to the service: %v\n%s", err, browsertest.Text(t, ctx))
	}
	if q := rp.callback(); q.Get("code") == "" || q.Get("state") != "state-forgot" {
		t.Fatalf("the service's callback got %v", q)
	}
}
