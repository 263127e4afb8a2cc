package idp_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// legacyEnv is the demo seed with the window shifted by start/end/cutover
// from now.
func legacyEnv(t *testing.T, start, end, cutover time.Duration) *hubtest.Env {
	return legacyEnvOn(t, "embedded", start, end, cutover)
}

// legacyEnvOn is legacyEnv on a backend of hubtest.Backends.
func legacyEnvOn(t *testing.T, backend string, start, end, cutover time.Duration) *hubtest.Env {
	now := time.Now().UTC()
	env := hubtest.New(t, hubtest.Options{Backend: backend, Config: func(c *config.Config) {
		c.Migration.PreregistrationStart = now.Add(start).Format(time.RFC3339)
		c.Migration.PreregistrationEnd = now.Add(end).Format(time.RFC3339)
		c.Migration.Cutover = now.Add(cutover).Format(time.RFC3339)
		c.Helpdesk.URL, c.Helpdesk.Email = "https://help.example/form", "help@example.com"
	}})
	env.ApplySeed(t, "../deploy/dev/seed.yaml")
	return env
}

type page struct {
	status int
	body   string
	loc    string
}

func post(t *testing.T, c *http.Client, u string, form url.Values) page {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, html.UnescapeString(string(b)), resp.Header.Get("Location")}
}

func get(t *testing.T, c *http.Client, u string) page {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, html.UnescapeString(string(b)), resp.Header.Get("Location")}
}

var ticketRe = regexp.MustCompile(`name="ticket" value="([^"]+)"`)
var linkRe = regexp.MustCompile(`/preregister/confirm\?token=([A-Za-z0-9_-]+)`)

// preregister walks sign-in with the login ID and Register; it returns the
// register answer.
func preregister(t *testing.T, env *hubtest.Env, service, loginID, email string) page {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p := post(t, c, env.URL+"/preregister", url.Values{"service": {service}, "login_id": {loginID}, "password": {"legacy-demo-password"}})
	m := ticketRe.FindStringSubmatch(p.body)
	if p.status != 200 || m == nil {
		t.Fatalf("sign in with %s: %d\n%s", loginID, p.status, p.body)
	}
	return post(t, c, env.URL+"/preregister/register", url.Values{"ticket": {m[1]}, "email": {email}, "name": {"Person"}, "locale": {"en"}})
}

// mailedLink returns the newest registration link mailed to email.
func mailedLink(t *testing.T, env *hubtest.Env, email string) string {
	t.Helper()
	msgs, err := env.Durable.ClaimOutbox(context.Background(), "mail", time.Now().Add(time.Hour), time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	tok := ""
	for _, m := range msgs {
		var v struct{ To, Text string }
		_ = json.Unmarshal(m.Payload, &v)
		if v.To == email {
			if l := linkRe.FindStringSubmatch(v.Text); l != nil {
				tok = l[1]
			}
		}
		_ = env.Durable.MarkOutboxSent(context.Background(), m.ID, time.Now())
	}
	if tok == "" {
		t.Fatalf("no registration mail to %s", email)
	}
	return tok
}

func complete(t *testing.T, env *hubtest.Env, token string, form url.Values) page {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if p := get(t, c, env.URL+"/preregister/confirm?token="+token); p.status != 200 {
		t.Fatalf("confirm page: %d\n%s", p.status, p.body)
	}
	form.Set("token", token)
	return post(t, c, env.URL+"/preregister/confirm", form)
}

func TestPreregistrationEndToEnd(t *testing.T) {
	env := legacyEnv(t, -time.Hour, 24*time.Hour, 48*time.Hour)
	ctx := context.Background()
	d := env.Durable
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if p := get(t, c, env.URL+"/preregister"); p.status != 200 || !strings.Contains(p.body, "NK-PASS") {
		t.Fatalf("form: %d\n%s", p.status, p.body)
	}

	// A new email: account created with a password, login ID linked, member
	// of the organization (the first one of NK0010: its administrator).
	if p := preregister(t, env, "nk-ships", "NKS-0002", "kenji@example.com"); p.status != 303 || !strings.HasPrefix(p.loc, "/preregister/sent") {
		t.Fatalf("register: %+v", p)
	}
	p := complete(t, env, mailedLink(t, env, "kenji@example.com"), url.Values{"password": {"a-long-new-passphrase"}, "confirm": {"a-long-new-passphrase"}})
	if p.status != 200 || !strings.Contains(p.body, "Registration complete") {
		t.Fatalf("complete: %d\n%s", p.status, p.body)
	}
	kenji, err := d.GetUserByEmail(ctx, "kenji@example.com")
	if err != nil || !kenji.EmailVerified {
		t.Fatalf("account: %+v %v", kenji, err)
	}
	org, _ := d.GetOrganizationByCode(ctx, "NK0010")
	ms, _ := d.ListMembershipsByUser(ctx, kenji.ID)
	if len(ms) != 1 || ms[0].OrgID != org.ID || ms[0].Role != store.RoleAdministrator {
		t.Fatalf("memberships: %+v", ms)
	}
	// The link works once.
	if p := get(t, c, env.URL+"/preregister/confirm?token="+"x"); p.status != 404 {
		t.Fatalf("bad link: %d", p.status)
	}

	// The same email for an ID of another service: linked to the existing
	// account, confirmed with its password.
	if p := preregister(t, env, "nk-pass", "NKP-0001", "kenji@example.com"); p.status != 303 {
		t.Fatalf("other service: %+v", p)
	}
	tok := mailedLink(t, env, "kenji@example.com")
	if p := complete(t, env, tok, url.Values{"password": {"wrong-password"}}); p.status != 401 {
		t.Fatalf("wrong password confirmed: %d", p.status)
	}
	if p := complete(t, env, tok, url.Values{"password": {"a-long-new-passphrase"}}); p.status != 200 {
		t.Fatalf("existing account: %d\n%s", p.status, p.body)
	}
	links, _ := d.ListLegacyLinksByUser(ctx, kenji.ID)
	if len(links) != 2 {
		t.Fatalf("links: %+v", links)
	}

	// The same email for a second ID of the same service: refused, naming
	// the helpdesk.
	p = preregister(t, env, "nk-ships", "NKS-0001", "kenji@example.com")
	if p.status != 409 || !strings.Contains(p.body, "help@example.com") || !strings.Contains(p.body, "one login ID of NK-SHIPS") {
		t.Fatalf("second ID of a service: %d\n%s", p.status, p.body)
	}

	// Three people on one shared ID: all linked, normal users of NK0001
	// (it has its seeded administrator).
	for _, e := range []string{"a@shared.example", "b@shared.example", "c@shared.example"} {
		if p := preregister(t, env, "nk-ships", "NKS-0001", e); p.status != 303 {
			t.Fatalf("%s: %+v", e, p)
		}
		if p := complete(t, env, mailedLink(t, env, e), url.Values{"password": {"another-long-passphrase"}, "confirm": {"another-long-passphrase"}}); p.status != 200 {
			t.Fatalf("%s: %d\n%s", e, p.status, p.body)
		}
	}
	ships, _ := d.GetServiceByCode(ctx, "nk-ships")
	shared, _ := d.ListLegacyLinksByLoginID(ctx, ships.ID, "NKS-0001")
	if len(shared) != 3 {
		t.Fatalf("shared ID links: %+v", shared)
	}
	events, _ := d.ListAudit(ctx, store.AuditFilter{OrgID: org.ID, Kinds: []string{"legacy.linked"}})
	if len(events) != 1 || events[0].Detail["login_id"] != "NKS-0002" {
		t.Fatalf("organization history: %+v", events)
	}
}

// 1,000 wrong legacy passwords: none accepted, the login ID throttled.
func TestPreregistrationWrongPasswordsThrottled(t *testing.T) {
	env := legacyEnv(t, -time.Hour, 24*time.Hour, 48*time.Hour)
	c := &http.Client{}
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() {
			p := post(t, c, env.URL+"/preregister", url.Values{"service": {"nk-ships"}, "login_id": {"NKS-0001"}, "password": {"guess" + string(rune('a'+i%26))}})
			mu.Lock()
			statuses[p.status]++
			mu.Unlock()
		})
		if i%50 == 49 {
			wg.Wait()
		}
	}
	wg.Wait()
	if statuses[200] != 0 || statuses[429] == 0 || statuses[401]+statuses[429] != 1000 {
		t.Fatalf("statuses: %v", statuses)
	}
	// Even the right password is refused while the login ID is locked.
	if p := post(t, c, env.URL+"/preregister", url.Values{"service": {"nk-ships"}, "login_id": {"NKS-0001"}, "password": {"legacy-demo-password"}}); p.status != 429 {
		t.Fatalf("locked login ID: %d", p.status)
	}
}

func TestPreregistrationClosedPages(t *testing.T) {
	for name, tc := range map[string]struct {
		start, end, cutover time.Duration
		want                string
	}{
		"before":  {time.Hour, 2 * time.Hour, 3 * time.Hour, "opens on"},
		"after":   {-3 * time.Hour, -2 * time.Hour, time.Hour, "ended on"},
		"cutover": {-3 * time.Hour, -2 * time.Hour, -time.Hour, "can no longer be used"},
	} {
		t.Run(name, func(t *testing.T) {
			env := legacyEnv(t, tc.start, tc.end, tc.cutover)
			c := &http.Client{}
			p := get(t, c, env.URL+"/preregister")
			if p.status != 403 || !strings.Contains(p.body, tc.want) || !strings.Contains(p.body, " UTC") || !strings.Contains(p.body, "https://help.example/form") {
				t.Fatalf("%d\n%s", p.status, p.body)
			}
			p = post(t, c, env.URL+"/preregister", url.Values{"service": {"nk-ships"}, "login_id": {"NKS-0001"}, "password": {"legacy-demo-password"}})
			if p.status != 403 {
				t.Fatalf("sign-in with a login ID outside the window: %d", p.status)
			}
			if p := get(t, c, env.URL+"/login?authRequestID=x"); strings.Contains(p.body, "/preregister") {
				t.Fatal("sign-in page links to the closed pre-registration")
			}
		})
	}
}
