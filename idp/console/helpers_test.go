package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

const testPassword = "correct horse battery staple"

// world is a hubid with two organizations, A and B, both entitled to one
// service, and people of every account type.
type world struct {
	env   *hubtest.Env
	clock *hubtest.Clock
	orgA  store.Organization
	orgB  store.Organization
	users map[string]store.User // by name
}

const (
	adminA   = "adminA"
	normalA  = "normalA"
	visitorA = "visitorA"
	adminB   = "adminB"
	both     = "both"    // administrator of B, normal user of A
	adminAB  = "adminAB" // administrator of both
	memberA  = "memberA"
	memberB  = "memberB"
)

func email(name string) string { return name + "@example.com" }

func newWorld(t *testing.T) *world { return newWorldOn(t, "embedded") }

func newWorldOn(t *testing.T, backend string) *world {
	t.Helper()
	c := &hubtest.Clock{}
	env := hubtest.New(t, hubtest.Options{Backend: backend, Now: c.Now})
	w := &world{env: env, clock: c, users: map[string]store.User{}}
	add := func(name, org string, role store.Role) {
		w.users[name] = env.AddUser(t, hubtest.User{Email: email(name), Password: testPassword, Name: name + " Person",
			Org: org, Role: role, Service: "nk-ships"})
	}
	add(adminA, "ORGA", store.RoleAdministrator)
	add(normalA, "ORGA", store.RoleNormal)
	add(visitorA, "ORGA", store.RoleVisitor)
	add(memberA, "ORGA", store.RoleNormal)
	add(adminB, "ORGB", store.RoleAdministrator)
	add(memberB, "ORGB", store.RoleNormal)
	add(both, "ORGB", store.RoleAdministrator)
	add(adminAB, "ORGB", store.RoleAdministrator)
	ctx := context.Background()
	var err error
	if w.orgA, err = env.Durable.GetOrganizationByCode(ctx, "ORGA"); err != nil {
		t.Fatal(err)
	}
	if w.orgB, err = env.Durable.GetOrganizationByCode(ctx, "ORGB"); err != nil {
		t.Fatal(err)
	}
	if err := env.Durable.PutMembership(ctx, store.Membership{UserID: w.users[both].ID, OrgID: w.orgA.ID,
		Role: store.RoleNormal, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := env.Durable.PutMembership(ctx, store.Membership{UserID: w.users[adminAB].ID, OrgID: w.orgA.ID,
		Role: store.RoleAdministrator, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return w
}

// page is a response read whole.
type page struct {
	status   int
	body     string
	location string
}

// client is a browser without a script: a cookie jar, no redirects
// followed unless asked.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (w *world) anonymous(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: w.env.URL, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, html.UnescapeString(string(b)), resp.Header.Get("Location")}
}

func (c *client) get(p string) page {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+p, nil)
	return c.do(req)
}

func (c *client) post(p string, form url.Values) page {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+p, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

// follow GETs p and follows redirects inside hubid.
func (c *client) follow(p string) page {
	c.t.Helper()
	for range 10 {
		pg := c.get(p)
		if pg.location == "" {
			return pg
		}
		u, err := url.Parse(pg.location)
		if err != nil || (u.Host != "" && "http://"+u.Host != c.base) {
			return pg
		}
		p = u.RequestURI()
	}
	c.t.Fatal("too many redirects")
	return page{}
}

var authRequestRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// signIn signs the client in to the hub as email.
func (c *client) signIn(email, password string) {
	c.t.Helper()
	c.signInAt("/signin?return=/", email, password)
}

// signInAt signs in from a sign-in link and returns where the hub sent
// the browser afterwards.
func (c *client) signInAt(link, email, password string) string {
	c.t.Helper()
	pg := c.follow(link)
	m := authRequestRe.FindStringSubmatch(pg.body)
	if m == nil {
		c.t.Fatalf("no sign-in page: %d\n%s", pg.status, pg.body)
	}
	c.post("/login/email", url.Values{"authRequestID": {m[1]}, "email": {email}})
	pg = c.post("/login/password", url.Values{"authRequestID": {m[1]}, "password": {password}})
	if pg.status != http.StatusSeeOther && pg.status != http.StatusFound {
		c.t.Fatalf("sign-in as %s: %d\n%s", email, pg.status, pg.body)
	}
	if home := c.follow("/"); home.status != 200 {
		c.t.Fatalf("hub home after sign-in as %s: %d", email, home.status)
	}
	return pg.location
}

func (w *world) as(t *testing.T, name string) *client {
	c := w.anonymous(t)
	c.signIn(email(name), testPassword)
	return c
}

var inviteLinkRe = regexp.MustCompile(`/invitations/accept\?token=([A-Za-z0-9_%-]+)`)

// mailedToken returns the token of the newest invitation mailed to addr
// (queued in the outbox; the others are left there).
func (w *world) mailedToken(t *testing.T, addr string) string {
	t.Helper()
	msgs, err := w.env.Durable.ClaimOutbox(context.Background(), "mail", time.Now().Add(time.Hour), time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	tok := ""
	for _, m := range msgs {
		var v struct{ To, Text string }
		_ = json.Unmarshal(m.Payload, &v)
		if v.To == addr {
			if l := inviteLinkRe.FindStringSubmatch(v.Text); l != nil {
				tok, _ = url.QueryUnescape(l[1])
			}
		}
		_ = w.env.Durable.MarkOutboxSent(context.Background(), m.ID, time.Now())
	}
	if tok == "" {
		t.Fatalf("no invitation mail to %s", addr)
	}
	return tok
}

var nextRe = regexp.MustCompile(`href="([^"]+)" rel="next"`)

func hubtestUser(i int) hubtest.User {
	return hubtest.User{Email: fmt.Sprintf("bulk%02d@example.com", i), Password: testPassword, Name: "Bulk", Org: "ORGA", Service: "nk-ships"}
}
