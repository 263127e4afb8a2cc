package idp_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

func TestHubHomeAfterSigningInWithoutAService(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	r := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "nk-ships")
	if _, err := env.Durable.UpdateClient(t.Context(), r.client.ID, func(c *store.Client) error {
		c.HomeURL = "https://ships.example/"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Name: "Aiko", Org: "NK0001", Role: store.RoleAdministrator, Service: "nk-ships"})
	b := newBrowser(t, env)
	resp := b.get(env.URL + "/")
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.Request.URL.Path != "/login" || id == "" {
		t.Fatalf("/ without a session must lead to the sign-in page: %s", resp.Request.URL)
	}
	b.post(env.URL+"/login/email", url.Values{"authRequestID": {id}, "email": {"aiko@example.com"}}).Body.Close()
	resp = b.post(env.URL+"/login/password", url.Values{"authRequestID": {id}, "password": {testPassword}})
	page := body(t, resp)
	if resp.Request.URL.Path != "/" || resp.StatusCode != 200 {
		t.Fatalf("after sign-in: %d %s", resp.StatusCode, resp.Request.URL)
	}
	for _, want := range []string{"Hello, Aiko", "NK0001", "Administrator", `href="https://ships.example/"`, `href="/account"`} {
		if !strings.Contains(page, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	// Japanese via the switcher.
	resp = b.get(env.URL + "/?lang=ja")
	if page := body(t, resp); !strings.Contains(page, "管理者") || !strings.Contains(page, `lang="ja"`) {
		t.Errorf("Japanese home page:\n%s", page)
	}
	// The return address can never leave hubid.
	resp = b.get(env.URL + "/signin?return=//evil.example/")
	resp.Body.Close()
	if strings.Contains(resp.Request.URL.Host, "evil") {
		t.Fatal("open redirect through /signin")
	}
}

func TestSessionFromBeforeAPasswordChangeNoLongerSignsIn(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	r := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	u := env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	b, f, code := signedIn(t, env, r)
	r.exchange(t, f, code)
	// The password changes somewhere else, without the sessions being ended.
	if _, err := env.Durable.UpdateUser(t.Context(), u.ID, func(x *store.User) error {
		x.PasswordChangedAt = time.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if f := b.authorize(r); f.authRequestID() == "" {
		t.Fatal("SSO with a session from before the password change")
	}
	resp := b.get(env.URL + "/")
	resp.Body.Close()
	if resp.Request.URL.Path == "/" {
		t.Fatal("hub page with a session from before the password change")
	}
}
