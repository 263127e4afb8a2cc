package idp_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/legacyui"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/store"
)

// TestPreregistrationPagesDetails: during the window the sign-in page
// links to the pre-registration as "Sign in with your current login ID";
// an unknown login ID and a wrong password get the same status and
// message; the register page warns that a shared mailbox lets everyone
// who reads it reset the password; each step is an audit event naming the
// login ID, in the organization's history and, once the account exists,
// in the person's.
func TestPreregistrationPagesDetails(t *testing.T) {
	env := legacyEnv(t, -time.Hour, 24*time.Hour, 48*time.Hour)
	ctx := context.Background()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if p := get(t, c, env.URL+"/"); !strings.Contains(p.body, `id="email"`) || !strings.Contains(p.body, `href="/preregister"`) || !strings.Contains(p.body, "Sign in with your current login ID") {
		t.Fatalf("sign-in page during the window lacks the link:\n%s", p.body)
	}
	wrong := post(t, c, env.URL+"/preregister", url.Values{"service": {"nk-ships"}, "login_id": {"NKS-0002"}, "password": {"not-the-password"}})
	unknown := post(t, c, env.URL+"/preregister", url.Values{"service": {"nk-ships"}, "login_id": {"NKS-9999"}, "password": {"not-the-password"}})
	const msg = "The login ID or password is incorrect."
	if wrong.status != 401 || unknown.status != 401 || !strings.Contains(wrong.body, msg) || !strings.Contains(unknown.body, msg) {
		t.Fatalf("wrong password %d, unknown login ID %d:\n%s\n----\n%s", wrong.status, unknown.status, wrong.body, unknown.body)
	}

	p := post(t, c, env.URL+"/preregister", url.Values{"service": {"nk-ships"}, "login_id": {"NKS-0002"}, "password": {"legacy-demo-password"}})
	if p.status != 200 || !strings.Contains(p.body, "A group or shared mailbox is allowed, but everyone who reads it can reset your password.") {
		t.Fatalf("register page without the shared mailbox warning: %d\n%s", p.status, p.body)
	}
	m := ticketRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("no ticket")
	}
	if p := post(t, c, env.URL+"/preregister/register", url.Values{"ticket": {m[1]}, "email": {"yui@example.com"}, "name": {"Yui"}, "locale": {"en"}}); p.status != 200 || !strings.Contains(p.body, "Check your inbox") {
		t.Fatalf("register: %+v", p)
	}
	if p := complete(t, env, mailedLink(t, env, "yui@example.com"), url.Values{"password": {"a-long-new-passphrase"}, "confirm": {"a-long-new-passphrase"}}); p.status != 200 {
		t.Fatalf("complete: %d\n%s", p.status, p.body)
	}
	yui, err := env.Durable.GetUserByEmail(ctx, "yui@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ships, _ := env.Durable.GetServiceByCode(ctx, "nk-ships")
	l, err := env.Durable.GetLegacyLoginID(ctx, ships.ID, "NKS-0002")
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{legacy.AuditSigninFailure, legacy.AuditSigninSuccess, legacy.AuditRegistration, legacy.AuditAccountCreated, legacy.AuditLinked}
	kinds := func(f store.AuditFilter) map[string]bool {
		t.Helper()
		f.Kinds = steps
		evs, err := env.Durable.ListAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, e := range evs {
			if e.Detail["login_id"] != "NKS-0002" {
				t.Errorf("%s does not name the login ID: %v", e.Kind, e.Detail)
			}
			out[e.Kind] = true
		}
		return out
	}
	org := kinds(store.AuditFilter{OrgID: l.OrgID})
	for _, k := range steps {
		if !org[k] {
			t.Errorf("organization history lacks %s (has %v)", k, org)
		}
	}
	person := kinds(store.AuditFilter{UserID: yui.ID})
	for _, k := range []string{legacy.AuditAccountCreated, legacy.AuditLinked} {
		if !person[k] {
			t.Errorf("the person's history lacks %s (has %v)", k, person)
		}
	}
}

// TestPreregistrationClosedPageInJapanese: a Japanese reader sees the
// closed page in Japanese, with the dates in Japan's time zone, and the
// helpdesk contact.
func TestPreregistrationClosedPageInJapanese(t *testing.T) {
	env := legacyEnv(t, time.Hour, 2*time.Hour, 3*time.Hour)
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/preregister", nil)
	req.Header.Set("Accept-Language", "ja")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	p := page{status: resp.StatusCode, body: body(t, resp)}
	start, _ := time.Parse(time.RFC3339, env.Config.Migration.PreregistrationStart)
	if p.status != 403 || !strings.Contains(p.body, "に始まり") || !strings.Contains(p.body, legacyui.FormatTime(start, "ja")) ||
		!strings.Contains(p.body, "（日本時間）") || !strings.Contains(p.body, "https://help.example/form") {
		t.Fatalf("%d\n%s", p.status, p.body)
	}
}
