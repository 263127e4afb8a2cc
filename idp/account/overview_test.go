package account

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

func TestPagesNeedASignedInPerson(t *testing.T) {
	e := newEnv(t)
	anon := &browser{e: e, ua: uaChromeWindows, ip: "198.51.100.1", lang: "en"}
	wantRedirect(t, anon.get("/account"), "/signin?return=%2Faccount")
	wantRedirect(t, anon.get("/account/history?kind=signin"), "/signin?return=%2Faccount%2Fhistory%3Fkind%3Dsignin")
	wantRedirect(t, anon.post("/account/sessions/end-others", url.Values{}), "/signin?return=%2F")
}

func TestCrossSitePostsAreRefused(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	other := e.signIn(u, uaSafariIPhone, "198.51.100.2")
	req := url.Values{}
	rec := b.doWith("/account/sessions/end-others", req, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if rec.Code != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", rec.Code)
	}
	if _, err := e.sessions.Get(context.Background(), other.session.ID); err != nil {
		t.Fatal("a cross-site POST ended a session")
	}
}

func TestOverviewListsSessionsServicesAndConsents(t *testing.T) {
	e := newEnv(t)
	e.addClient("ships", "NK-SHIPS", "https://ships.example/")
	e.addClient("pass", "NK-PASS", "")
	e.addClient("partner", "Partner Portal", "")
	u := e.addUser("aiko@example.com", "Aiko Tanaka", "")
	stranger := e.addUser("ken@example.com", "Ken", "")
	e.clk.Advance(time.Hour)
	phone := e.signIn(u, uaSafariIPhone, "203.0.113.7", "pass")
	e.clk.Advance(time.Hour)
	b := e.signIn(u, uaChromeWindows, "198.51.100.1", "ships")
	theirs := e.signIn(stranger, uaFirefoxLinux, "192.0.2.99", "partner")
	ctx := context.Background()
	if err := e.db.PutConsent(ctx, store.ConsentGrant{UserID: u.ID, ClientID: "partner", Scopes: []string{"openid", "profile", "email"},
		CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}); err != nil {
		t.Fatal(err)
	}

	page := b.page("/account")
	contains(t, page,
		`value="Aiko Tanaka"`, "aiko@example.com",
		"Chrome on Windows", "Safari on iPhone", "198.51.100.1", "203.0.113.7", "This device",
		"2 Mar 2026, 10:00 UTC", `datetime="2026-03-02T11:00:00Z"`,
		`<a href="https://ships.example/">NK-SHIPS</a>`, "NK-PASS", "Signed in to: NK-SHIPS",
		"Partner Portal", "Your account ID, Name and language, Email address", "2 Mar 2026",
		`action="/account/consents/partner/revoke"`,
		`action="/account/sessions/`+phone.session.ID+`/end"`,
		`action="/account/sessions/end-others"`,
		`href="/account/password"`, `href="/account/email"`, `href="/account/history"`,
	)
	// This device is listed first and is signed out with the ordinary
	// logout, not the per-session form.
	if strings.Index(page, "Chrome on Windows") > strings.Index(page, "Safari on iPhone") {
		t.Error("this device is not listed first")
	}
	lacks(t, page, b.session.ID, theirs.session.ID, "192.0.2.99", "Firefox")
	if n := strings.Count(page, "This device"); n != 1 {
		t.Errorf("%d sessions marked as this device", n)
	}
	// Language select: automatic is chosen for an empty setting.
	contains(t, page, `<option value="" selected>Automatic`)
}

func TestOverviewWithOneSessionOffersNoSignOutElsewhere(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	page := e.signIn(u, uaChromeWindows, "198.51.100.1").page("/account")
	lacks(t, page, "end-others")
	contains(t, page, "You are not signed in to any service.", "You have not granted access to any service.")
}

func TestProfileUpdate(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")

	wantRedirect(t, b.post("/account/profile", url.Values{"name": {"  田中 愛子 "}, "locale": {"ja"}}), "/account?done=profile")
	got := e.user(u.ID)
	if got.Name != "田中 愛子" || got.Locale != "ja" {
		t.Fatalf("stored %q %q", got.Name, got.Locale)
	}
	evs := e.audit(u.ID, KindProfileUpdated)
	if len(evs) != 1 || evs[0].Detail["fields"] != "name,locale" || evs[0].ActorID != u.ID || evs[0].IP != "198.51.100.1" || evs[0].UserAgent != uaChromeWindows {
		t.Fatalf("audit: %+v", evs)
	}
	// The account's language now wins over the browser's English.
	page := b.page("/account?done=profile")
	contains(t, page, `lang="ja"`, "プロフィールを保存しました。", `<option value="ja" selected>日本語`)

	// Saving without a change writes nothing.
	wantRedirect(t, b.post("/account/profile", url.Values{"name": {"田中 愛子"}, "locale": {"ja"}}), "/account?done=profile")
	if n := len(e.audit(u.ID, KindProfileUpdated)); n != 1 {
		t.Fatalf("%d profile events after a no-op save", n)
	}
}

func TestProfileRefusals(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "en")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	for _, c := range []struct {
		name, locale, want string
	}{
		{"   ", "en", "Enter your name."},
		{strings.Repeat("あ", MaxNameLen+1), "en", "Use at most 100 characters"},
		{"Aiko\x00", "en", "characters that cannot be used"},
		{"Aiko", "fr", "Choose a language from the list."},
	} {
		rec := b.post("/account/profile", url.Values{"name": {c.name}, "locale": {c.locale}})
		wantStatus(t, rec, http.StatusUnprocessableEntity, c.want, `role="alert"`, `aria-invalid="true"`)
	}
	if got := e.user(u.ID); got.Name != "Aiko" || got.Locale != "en" {
		t.Fatalf("a refused profile changed the user: %+v", got)
	}
	if evs := e.audit(u.ID, ""); len(evs) != 0 {
		t.Fatalf("refusals wrote events: %+v", evs)
	}
}

func TestEndOneSession(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	phone := e.signIn(u, uaSafariIPhone, "203.0.113.7")
	laptop := e.signIn(u, uaFirefoxLinux, "203.0.113.8")

	wantRedirect(t, b.post("/account/sessions/"+phone.session.ID+"/end", url.Values{}), "/account?done=session")
	if got := e.endedIDs(); !slices.Equal(got, []string{phone.session.ID}) {
		t.Fatalf("ended %v", got)
	}
	if rec := phone.get("/account"); rec.Code != http.StatusSeeOther {
		t.Fatalf("the ended session still works: %d", rec.Code)
	}
	if rec := laptop.get("/account"); rec.Code != http.StatusOK {
		t.Fatalf("another session ended too: %d", rec.Code)
	}
	evs := e.audit(u.ID, KindSessionEnded)
	if len(evs) != 1 || evs[0].Detail["ip"] != "203.0.113.7" || evs[0].Detail["user_agent"] != uaSafariIPhone {
		t.Fatalf("audit: %+v", evs)
	}
	contains(t, b.page("/account?done=session"), "That device has been signed out.")
}

func TestEndingSomeoneElsesSessionIsNotFound(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	stranger := e.addUser("ken@example.com", "Ken", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	theirs := e.signIn(stranger, uaFirefoxLinux, "192.0.2.99")

	for _, id := range []string{theirs.session.ID, "no-such-session"} {
		wantStatus(t, b.post("/account/sessions/"+id+"/end", url.Values{}), http.StatusNotFound, "The page was not found.")
	}
	if got := e.endedIDs(); len(got) != 0 {
		t.Fatalf("ended %v", got)
	}
	if rec := theirs.get("/account"); rec.Code != http.StatusOK {
		t.Fatal("the other person's session ended")
	}
	if evs := e.audit(u.ID, ""); len(evs) != 0 {
		t.Fatalf("events: %+v", evs)
	}
	if evs := e.audit(stranger.ID, ""); len(evs) != 0 {
		t.Fatalf("events: %+v", evs)
	}
}

func TestEndEveryOtherSession(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	stranger := e.addUser("ken@example.com", "Ken", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	phone := e.signIn(u, uaSafariIPhone, "203.0.113.7")
	laptop := e.signIn(u, uaFirefoxLinux, "203.0.113.8")
	theirs := e.signIn(stranger, uaFirefoxLinux, "192.0.2.99")

	wantRedirect(t, b.post("/account/sessions/end-others", url.Values{}), "/account?done=others")
	got := e.endedIDs()
	slices.Sort(got)
	want := []string{phone.session.ID, laptop.session.ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ended %v, want %v", got, want)
	}
	if b.get("/account").Code != http.StatusOK || theirs.get("/account").Code != http.StatusOK {
		t.Fatal("this session or someone else's ended")
	}
	evs := e.audit(u.ID, KindSessionsEnded)
	if len(evs) != 1 || evs[0].Detail["count"] != "2" {
		t.Fatalf("audit: %+v", evs)
	}
}

func TestEndOthersFailureIsAnErrorPage(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	e.signIn(u, uaSafariIPhone, "203.0.113.7")
	e.endErr = errBoom
	rec := b.post("/account/sessions/end-others", url.Values{})
	wantStatus(t, rec, http.StatusInternalServerError, "An unexpected error occurred.")
	lacks(t, rec.Body.String(), "boom")
	if evs := e.audit(u.ID, KindSessionsEnded); len(evs) != 0 {
		t.Fatalf("audit of sessions that did not end: %+v", evs)
	}
}

func TestRevokeConsent(t *testing.T) {
	e := newEnv(t)
	e.addClient("partner", "Partner Portal", "")
	u := e.addUser("aiko@example.com", "Aiko", "")
	stranger := e.addUser("ken@example.com", "Ken", "")
	ctx := context.Background()
	for _, id := range []string{u.ID, stranger.ID} {
		if err := e.db.PutConsent(ctx, store.ConsentGrant{UserID: id, ClientID: "partner", Scopes: []string{"openid"},
			CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")

	wantRedirect(t, b.post("/account/consents/partner/revoke", url.Values{}), "/account?done=consent")
	if _, err := e.db.GetConsent(ctx, u.ID, "partner"); err == nil {
		t.Fatal("consent still there")
	}
	if _, err := e.db.GetConsent(ctx, stranger.ID, "partner"); err != nil {
		t.Fatal("someone else's consent went too")
	}
	evs := e.audit(u.ID, KindConsentRevoked)
	if len(evs) != 1 || evs[0].ClientID != "partner" {
		t.Fatalf("audit: %+v", evs)
	}
	// Again, or for a client never granted: not found, nothing written.
	wantStatus(t, b.post("/account/consents/partner/revoke", url.Values{}), http.StatusNotFound)
	wantStatus(t, b.post("/account/consents/nobody/revoke", url.Values{}), http.StatusNotFound)
	if n := len(e.audit(u.ID, KindConsentRevoked)); n != 1 {
		t.Fatalf("%d revoke events", n)
	}
}

func TestNewRefusesMissingDependencies(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "Deps.") {
			t.Fatalf("New(Deps{}) did not panic naming the dependency: %v", r)
		}
	}()
	New(Deps{})
}
