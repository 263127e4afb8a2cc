package idp_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// langTransport sends Accept-Language with every request, as a browser
// set to one language does.
type langTransport struct{ lang string }

func (l langTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", l.lang)
	return http.DefaultTransport.RoundTrip(r)
}

var htmlLang = regexp.MustCompile(`<html lang="([a-z]+)"`)

func pageLang(t *testing.T, resp *http.Response) string {
	t.Helper()
	m := htmlLang.FindStringSubmatch(body(t, resp))
	if m == nil {
		t.Fatalf("%s: no html lang", resp.Request.URL)
	}
	return m[1]
}

// One language per person: on an English browser a person whose account
// is in Japanese gets Japanese from the password page on, through the
// consent page; an unknown address (and every page before the email
// step) follows the browser; the switcher overrides both.
func TestOneLanguagePerPerson(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	partner := newRP(t, env, "partner", "partner-secret-0123456789-0123456789-ab", "svc")
	if _, err := env.Durable.UpdateClient(t.Context(), "partner", func(c *store.Client) error {
		c.FirstParty = false // asks for consent
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	u := env.AddUser(t, hubtest.User{Email: "haruka@example.com", Password: testPassword, Org: "O", Service: "svc"})
	if _, err := env.Durable.UpdateUser(t.Context(), u.ID, func(u *store.User) error { u.Locale = "ja"; return nil }); err != nil {
		t.Fatal(err)
	}
	english := func() *browser {
		b := newBrowser(t, env)
		b.http.Transport = langTransport{"en-US,en;q=0.9"}
		return b
	}

	b := english()
	f := b.authorize(partner)
	id := f.authRequestID()
	if got := pageLang(t, f.resp); got != "en" {
		t.Fatalf("email page before the person is known: %s, want the browser's en", got)
	}
	resp := b.post(b.url("/login/email"), url.Values{"authRequestID": {id}, "email": {"haruka@example.com"}})
	if got := pageLang(t, resp); got != "ja" {
		t.Fatalf("password page: %s, want the account's ja", got)
	}
	// The forgot-password detour keeps the language.
	if got := pageLang(t, b.get(b.url("/forgot?authRequestID="+id))); got != "ja" {
		t.Fatalf("forgot page from the sign-in: %s, want ja", got)
	}
	resp = b.post(b.url("/login/password"), url.Values{"authRequestID": {id}, "password": {"wrong password"}})
	if got := pageLang(t, resp); got != "ja" {
		t.Fatalf("password page after a wrong password: %s, want ja", got)
	}
	resp = b.post(b.url("/login/password"), url.Values{"authRequestID": {id}, "password": {testPassword}})
	if resp.Request.URL.Path != "/consent" {
		t.Fatalf("want the consent page, got %s", resp.Request.URL)
	}
	if got := pageLang(t, resp); got != "ja" {
		t.Fatalf("consent page: %s, want ja", got)
	}

	// An address without an account: the browser's language.
	b = english()
	f = b.authorize(partner)
	resp = b.post(b.url("/login/email"), url.Values{"authRequestID": {f.authRequestID()}, "email": {"nobody@example.com"}})
	if got := pageLang(t, resp); got != "en" {
		t.Fatalf("password page for an unknown address: %s, want en", got)
	}

	// The switcher decides over the account.
	b = english()
	f = b.authorize(partner)
	id = f.authRequestID()
	drain(b.get(b.url("/login?authRequestID=" + id + "&lang=en")))
	resp = b.post(b.url("/login/email"), url.Values{"authRequestID": {id}, "email": {"haruka@example.com"}})
	if got := pageLang(t, resp); got != "en" {
		t.Fatalf("password page after choosing English: %s, want en", got)
	}
}
