package idp_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/customerhub/hubid/idp/recovery"
	"github.com/customerhub/hubid/internal/hubtest"
)

var resetLinkRe = regexp.MustCompile(`/reset\?token=([A-Za-z0-9_-]{43})`)

// mailedResetLink delivers the queued mail to the dev mailbox and returns
// the path of the newest reset link in it.
func mailedResetLink(t *testing.T, env *hubtest.Env) string {
	t.Helper()
	deliverMail(t, env)
	files, err := filepath.Glob(filepath.Join(env.MailDir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	link := ""
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Undo quoted-printable where it touches the link.
		text := strings.NewReplacer("=\r\n", "", "=3D", "=").Replace(string(b))
		if m := resetLinkRe.FindStringSubmatch(text); m != nil {
			link = m[0]
		}
	}
	if link == "" {
		t.Fatal("no reset link in the mailbox")
	}
	return link
}

// A person who forgets the password while signing in to a service gets
// the address filled in and, after the reset, goes back to that service's
// sign-in, which ends at the service with a code.
func TestForgotPasswordReturnsToTheService(t *testing.T) {
	env, ships, _, _ := setup(t, "embedded")
	b := newBrowser(t, env)
	f := b.authorize(ships)
	id := f.authRequestID()
	f.resp.Body.Close()
	resp := b.post(env.URL+"/login/email", url.Values{"authRequestID": {id}, "email": {"aiko@example.com"}})
	page := body(t, resp)
	forgot := "/forgot?authRequestID=" + id
	if !strings.Contains(page, `href="`+forgot+`"`) {
		t.Fatalf("the password page must link to %s:\n%s", forgot, page)
	}
	page = body(t, b.get(env.URL+forgot))
	if !strings.Contains(page, `value="aiko@example.com"`) || !strings.Contains(page, `name="authRequestID" value="`+id+`"`) {
		t.Fatalf("the forgot page must be filled in and keep the sign-in:\n%s", page)
	}
	resp = b.post(env.URL+"/forgot", url.Values{"authRequestID": {id}, "email": {"aiko@example.com"}})
	if resp.Request.URL.Path != "/forgot/sent" {
		t.Fatalf("forgot: %s", resp.Request.URL)
	}
	if page := body(t, resp); !strings.Contains(page, `href="/login/password?authRequestID=`+id+`"`) {
		t.Fatalf("the sent page must lead back to the sign-in:\n%s", page)
	}
	link := mailedResetLink(t, env)
	resp = b.get(env.URL + link)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset page: %d", resp.StatusCode)
	}
	drain(resp)
	const newPassword = "a lantern by the harbour at dusk"
	token := strings.TrimPrefix(link, "/reset?token=")
	resp = b.post(env.URL+"/reset", url.Values{"token": {token}, "password": {newPassword}, "confirm": {newPassword}})
	page = body(t, resp)
	if resp.Request.URL.Path != "/reset/done" {
		t.Fatalf("reset: %s\n%s", resp.Request.URL, page)
	}
	next := "/login?authRequestID=" + id
	if !strings.Contains(page, `href="`+next+`"`) || !strings.Contains(page, "SHIPS") {
		t.Fatalf("the done page must lead back to SHIPS at %s:\n%s", next, page)
	}
	// The link continues the same request: sign in, and the service gets
	// its code with the state it sent.
	f.resp = b.get(env.URL + next)
	b.signIn(f, "aiko@example.com", newPassword, false)
	ships.exchange(t, f, f.code(t))

	// The cookie is used up: a second visit leads to the hub's sign-in.
	if page := body(t, b.get(env.URL+"/reset/done")); strings.Contains(page, next) || !strings.Contains(page, `href="/signin"`) {
		t.Fatalf("a second visit must not lead to the finished request:\n%s", page)
	}
}

// Without a pending sign-in (a made-up or finished one) the pages behave
// as before: nothing remembered, back to the hub's sign-in.
func TestForgotPasswordWithoutAPendingSignIn(t *testing.T) {
	env, _, _, _ := setup(t, "embedded")
	b := newBrowser(t, env)
	page := body(t, b.get(env.URL+"/forgot?authRequestID=made-up"))
	if strings.Contains(page, `name="authRequestID"`) || !strings.Contains(page, `href="/signin"`) {
		t.Fatalf("an unknown request must be ignored:\n%s", page)
	}
	resp := b.post(env.URL+"/forgot", url.Values{"authRequestID": {"made-up"}, "email": {"aiko@example.com"}})
	drain(resp)
	if resp.Request.URL.RequestURI() != "/forgot/sent" {
		t.Fatalf("forgot: %s", resp.Request.URL)
	}
	u, _ := url.Parse(env.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == recovery.ReturnCookie {
			t.Fatalf("no return cookie without a pending sign-in: %v", c)
		}
	}
}
