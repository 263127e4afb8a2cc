package idp_test

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

func TestThirdPartyClientAsksForConsentOnce(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	r := newRP(t, env, "partner", "partner-secret-0123456789-0123456789-ab", "svc")
	if _, err := env.Durable.UpdateClient(t.Context(), "partner", func(c *store.Client) error {
		c.FirstParty = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	b := newBrowser(t, env)
	f := b.authorize(r)
	b.signIn(f, "aiko@example.com", testPassword, false)
	if f.resp.Request.URL.Path != "/consent" {
		t.Fatalf("a third-party client must ask for consent, got %s", f.resp.Request.URL)
	}
	page := body(t, f.resp)
	if !strings.Contains(page, "PARTNER") || !strings.Contains(page, "email") {
		t.Fatalf("consent page:\n%s", page)
	}
	id := f.resp.Request.URL.Query().Get("authRequestID")
	f.resp = b.post(env.URL+"/consent", url.Values{"authRequestID": {id}, "decision": {"allow"}, "scopes": {"profile email"}})
	if f.resp.StatusCode >= 400 {
		t.Fatalf("allow: %d %s", f.resp.StatusCode, body(t, f.resp))
	}
	r.exchange(t, f, f.code(t))

	// Remembered: the next request goes straight through.
	f = b.authorize(r)
	r.exchange(t, f, f.code(t))

	// prompt=consent asks again; denying answers access_denied.
	f = b.authorize(r, oauth2.SetAuthURLParam("prompt", "consent"))
	if f.resp.Request.URL.Path != "/consent" {
		t.Fatalf("prompt=consent: %s", f.resp.Request.URL)
	}
	f.resp.Body.Close()
	id = f.resp.Request.URL.Query().Get("authRequestID")
	f.resp = b.post(env.URL+"/consent", url.Values{"authRequestID": {id}, "decision": {"deny"}})
	if e := f.redirectError(t); e != "access_denied" {
		t.Fatalf("deny: %q", e)
	}
}
