package idp_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/idp"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// navEnv is hubid with one administrator (Aiko, NK0001, entitled to
// nk-ships) and one normal member (Ben), signed in in their own browsers.
func navEnv(t *testing.T) (env *hubtest.Env, ships *rp, admin, normal *browser) {
	env = hubtest.New(t, hubtest.Options{})
	ships = newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "nk-ships")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Name: "Aiko", Org: "NK0001", Role: store.RoleAdministrator, Service: "nk-ships"})
	env.AddUser(t, hubtest.User{Email: "ben@example.com", Password: testPassword, Name: "Ben", Org: "NK0001", Role: store.RoleNormal, Service: "nk-ships"})
	return env, ships, hubSignedIn(t, env, "aiko@example.com"), hubSignedIn(t, env, "ben@example.com")
}

// hubSignedIn signs a new browser in to the hub itself.
func hubSignedIn(t *testing.T, env *hubtest.Env, email string) *browser {
	t.Helper()
	b := newBrowser(t, env)
	resp := b.get(env.URL + "/")
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	b.post(env.URL+"/login/email", url.Values{"authRequestID": {id}, "email": {email}}).Body.Close()
	resp = b.post(env.URL+"/login/password", url.Values{"authRequestID": {id}, "password": {testPassword}})
	resp.Body.Close()
	if resp.Request.URL.Path != "/" || resp.StatusCode != http.StatusOK {
		t.Fatalf("hub sign-in of %s ended at %d %s", email, resp.StatusCode, resp.Request.URL)
	}
	return b
}

// page is one response as a person sees it.
type navPage struct {
	status      int
	path, ctype string
	body        string
	header      http.Header
}

// open requests path in lang (Accept-Language), following hubid's
// redirects.
func (b *browser) open(method, path, lang string) navPage {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.issuer+path, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept-Language", lang)
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return navPage{status: resp.StatusCode, path: resp.Request.URL.RequestURI(), ctype: resp.Header.Get("Content-Type"),
		header: resp.Header, body: body(b.t, resp)}
}

var mainRe = regexp.MustCompile(`(?s)<main[^>]*>(.*)</main>`)

// checkLayout fails unless pg is a page of the layout in lang with a way
// on inside <main>: a link or a form.
func checkLayout(t *testing.T, name string, pg navPage, lang string) {
	t.Helper()
	switch {
	case !strings.HasPrefix(pg.ctype, "text/html"):
		t.Errorf("%s: %d %s, not a page: %.80q", name, pg.status, pg.ctype, pg.body)
		return
	case !strings.Contains(pg.body, `<html lang="`+lang+`">`):
		t.Errorf("%s: not in %s (%d, at %s)", name, lang, pg.status, pg.path)
	case !strings.Contains(pg.body, `<a class="brand" href="/">`), !strings.Contains(pg.body, `rel="icon"`):
		t.Errorf("%s: no layout (%d)", name, pg.status)
	case pg.status >= 500:
		t.Errorf("%s: %d", name, pg.status)
	}
	m := mainRe.FindStringSubmatch(pg.body)
	if m == nil || (!strings.Contains(m[1], "<a href=") && !strings.Contains(m[1], "<form")) {
		t.Errorf("%s: a dead end: no link or form in <main> (%d at %s)", name, pg.status, pg.path)
	}
}

// apiPaths answer programs, not people: JSON or plain text is right.
var apiPaths = map[string]bool{
	"/.well-known/openid-configuration": true, "/keys": true, "/oauth/token": true, "/oauth/introspect": true,
	"/userinfo": true, "/revoke": true, "/healthz": true, "/favicon.ico": true,
}

func TestEveryRouteAndErrorIsALayoutPageInBothLanguages(t *testing.T) {
	env, _, admin, _ := navEnv(t)
	anon := newBrowser(t, env)
	paths := []string{"/", "/console", "/console/"}
	for _, sec := range []string{"", "/members", "/invitations", "/history", "/applications", "/security", "/legacy"} {
		paths = append(paths, "/console/NK0001"+sec)
	}
	paths = append(paths, idp.KnownPaths...)
	for _, lang := range []string{"en", "ja"} {
		for who, b := range map[string]*browser{"signed in": admin, "signed out": anon} {
			for _, p := range paths {
				for _, method := range []string{http.MethodGet, http.MethodPost} {
					if p == "/logout" && method == http.MethodPost {
						continue // would sign the browser out: TestSignedOutPageLeadsOn
					}
					name := who + " " + lang + " " + method + " " + p
					pg := b.open(method, p, lang)
					if apiPaths[p] {
						if strings.HasPrefix(pg.ctype, "text/html") && pg.status < 400 || pg.status >= 500 {
							t.Errorf("%s: %d %s", name, pg.status, pg.ctype)
						}
						continue
					}
					checkLayout(t, name, pg, lang)
				}
			}
		}
		// Error paths: no such page, no such method, at every level of
		// routing (the listener, the pages, the console, op).
		errs := []struct {
			method, path string
			status       int
		}{
			{"GET", "/no/such/page", 404}, {"GET", "/account/nope", 404}, {"GET", "/console/NK0001/nope", 404},
			{"GET", "/login/nope", 404}, {"GET", "/authorize/nope", 404}, {"GET", "/device_authorization", 404},
			{"GET", "/readyz", 404}, {"GET", "/static/nope.css", 404},
			{"POST", "/no/such/page", 404}, {"DELETE", "/account", 405}, {"PUT", "/", 405}, {"POST", "/keys", 405},
			{"GET", "/login/email", 405}, {"POST", "/account/history", 405},
		}
		for _, e := range errs {
			pg := admin.open(e.method, e.path, lang)
			name := lang + " " + e.method + " " + e.path
			if pg.status != e.status {
				t.Errorf("%s: %d, want %d", name, pg.status, e.status)
			}
			checkLayout(t, name, pg, lang)
			want := map[string]map[int]string{"en": {404: "Page not found", 405: "cannot be used that way"},
				"ja": {404: "ページが見つかりません", 405: "この操作はできません"}}[lang][e.status]
			if !strings.Contains(pg.body, want) {
				t.Errorf("%s: lacks %q", name, want)
			}
			if e.status == 405 && pg.header.Get("Allow") == "" && e.path != "/account/history" {
				t.Errorf("%s: 405 without Allow", name)
			}
			if strings.Contains(pg.body, "404 page not found") || strings.Contains(pg.body, "Method Not Allowed") {
				t.Errorf("%s: Go's plain text", name)
			}
		}
	}
	// The switcher works on an error page too.
	pg := anon.open("GET", "/no/such/page?lang=ja", "en")
	if !strings.Contains(pg.body, `<html lang="ja">`) || pg.status != 404 || pg.path != "/no/such/page" {
		t.Errorf("switching language on the 404 page: %d %s %.200s", pg.status, pg.path, pg.body)
	}
	// The favicon.
	fav := anon.open("GET", "/favicon.ico", "en")
	if fav.status != 200 || fav.ctype != "image/x-icon" || !strings.HasPrefix(fav.body, "\x00\x00\x01\x00") {
		t.Errorf("favicon: %d %s", fav.status, fav.ctype)
	}
}

// menuLinks are the avatar menu's links every signed-in person has.
var menuLinks = []string{`href="/account"`, `href="/account/mfa"`, `href="/account/history"`, `action="/logout"`, `hreflang="ja"`, `hreflang="en"`}

func TestAvatarMenuOnEveryHubPage(t *testing.T) {
	env, _, admin, normal := navEnv(t)
	pages := []string{"/", "/account", "/account/password", "/account/email", "/account/history", "/account/mfa", "/console/", "/console/NK0001/members"}
	for _, p := range pages {
		for _, lang := range []string{"en", "ja"} {
			pg := admin.open("GET", p, lang)
			name := lang + " " + p
			checkLayout(t, name, pg, lang)
			menu := regexp.MustCompile(`(?s)<nav class="avatar".*?</nav>`).FindString(pg.body)
			if menu == "" {
				t.Errorf("%s: no avatar menu", name)
				continue
			}
			for _, want := range append(menuLinks, "<details>", "<summary>", "Aiko", "aiko@example.com", `href="/console/"`) {
				if !strings.Contains(menu, want) {
					t.Errorf("%s: the menu lacks %s", name, want)
				}
			}
		}
	}
	// A normal member's menu has no console.
	pg := normal.open("GET", "/account", "en")
	menu := regexp.MustCompile(`(?s)<nav class="avatar".*?</nav>`).FindString(pg.body)
	for _, want := range menuLinks {
		if !strings.Contains(menu, want) {
			t.Errorf("normal member's menu lacks %s", want)
		}
	}
	if strings.Contains(menu, `href="/console/"`) {
		t.Error("a normal member's menu links the console")
	}
	// The 404 page shows the menu to a signed-in person.
	if pg := admin.open("GET", "/no/such/page", "en"); !strings.Contains(pg.body, `<nav class="avatar"`) || pg.status != 404 {
		t.Errorf("404 page of a signed-in person: %d, menu %v", pg.status, strings.Contains(pg.body, `class="avatar"`))
	}
	if pg := newBrowser(t, env).open("GET", "/no/such/page", "en"); strings.Contains(pg.body, `class="avatar"`) {
		t.Error("404 page shows a menu without a session")
	}
	// Signed out, there is no menu; the home page links usage history.
	if pg := newBrowser(t, env).open("GET", "/logged-out", "en"); strings.Contains(pg.body, `class="avatar"`) {
		t.Error("menu without a session")
	}
	home := admin.open("GET", "/", "en")
	m := mainRe.FindStringSubmatch(home.body)
	if m == nil || !strings.Contains(m[1], `href="/account/history"`) || !strings.Contains(m[1], `<th scope="col">Organization</th>`) {
		t.Errorf("home page: no usage history link or first column not \"Organization\":\n%s", home.body)
	}
}

func TestSignedOutPageLeadsOn(t *testing.T) {
	env, _, admin, _ := navEnv(t)
	resp := admin.post(env.URL+"/logout", url.Values{})
	page := body(t, resp)
	if resp.Request.URL.Path != "/logged-out" || !strings.Contains(page, `href="/signin"`) {
		t.Fatalf("after signing out: %s\n%s", resp.Request.URL, page)
	}
	// The link signs in again and returns to the hub.
	if pg := admin.open("GET", "/signin", "en"); !strings.HasPrefix(pg.path, "/login?") {
		t.Fatalf("/signin after sign-out: %s", pg.path)
	}
}

func TestNotEntitledIsAnAnswerWithAWayOn(t *testing.T) {
	env, _, _, _ := navEnv(t)
	other := newRP(t, env, "pass", "", "nk-pass") // NK0001 is not entitled
	for _, tc := range []struct {
		email string
		admin bool
	}{{"aiko@example.com", true}, {"ben@example.com", false}} {
		for _, lang := range []string{"en", "ja"} {
			b := newBrowser(t, env)
			f := b.authorize(other, oauth2.SetAuthURLParam("ui_locales", lang))
			b.signIn(f, tc.email, testPassword, false)
			page := body(t, f.resp)
			name := tc.email + " " + lang
			if f.resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %d", name, f.resp.StatusCode)
			}
			want := map[string][]string{
				"en": {"This service is not available to you", "PASS", "NK0001", `href="/"`},
				"ja": {"このサービスは利用できません", "PASS", "NK0001", `href="/"`},
			}[lang]
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("%s: lacks %q", name, w)
				}
			}
			for _, bad := range []string{"Something went wrong", "エラーが発生しました", "Reference", "参照番号"} {
				if strings.Contains(page, bad) {
					t.Errorf("%s: an error page (%q)", name, bad)
				}
			}
			apply := `href="/console/NK0001/applications?service=nk-pass"`
			if strings.Contains(page, apply) != tc.admin {
				t.Errorf("%s: link to apply shown %v, want %v", name, !tc.admin, tc.admin)
			}
			checkLayout(t, name, navPage{status: f.resp.StatusCode, ctype: f.resp.Header.Get("Content-Type"), body: page}, lang)
		}
	}
	// The link preselects the service on the console's application page.
	admin := hubSignedIn(t, env, "aiko@example.com")
	pg := admin.open("GET", "/console/NK0001/applications?service=nk-pass", "en")
	if !strings.Contains(pg.body, `<option value="nk-pass" selected>`) {
		t.Errorf("application page does not preselect the service:\n%s", pg.body)
	}
}
