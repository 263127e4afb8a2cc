package consentui

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/consent"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/store"
)

func TestFirstPartySkipsConsent(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	e.addClient("hub-app", "Hub App", true)
	b := e.signIn(u)

	id := e.newRequest("hub-app", "openid profile email offline_access roles")
	wantRedirect(t, b.authorize(id), callbackURL(id))
	if got := e.recorded(&e.completed); !slices.Equal(got, []string{id}) {
		t.Fatalf("completed = %q", got)
	}
	if g := e.grant(u.ID, "hub-app"); g != nil {
		t.Fatalf("a first-party sign-in stored a grant: %q", g)
	}
}

func TestThirdPartyConsentIsAskedRememberedAndAskedOnlyForNewScopes(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	e.addClient("pass", "NK-PASS", false)
	b := e.signIn(u)

	// 1. Sign-in stops at the consent page; the request is marked with the
	// person but not finished.
	id := e.newRequest("pass", "openid profile email")
	wantRedirect(t, b.authorize(id), consentURL(id))
	if len(e.recorded(&e.completed)) != 0 {
		t.Fatal("completed before consent")
	}
	ar, err := e.authRequest(id)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Done || ar.UserID != u.ID || ar.SessionID == "" {
		t.Fatalf("marked request: Done=%v UserID=%q SessionID=%q", ar.Done, ar.UserID, ar.SessionID)
	}

	// 2. The page names the service and what it wants, not openid.
	rec := b.get(consentURL(id))
	if rec.Code != http.StatusOK {
		t.Fatalf("page status %d:\n%s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	for _, want := range []string{"NK-PASS is asking for:", "<li>Your name and language</li>", "<li>Your email address</li>",
		"Signed in as alice@example.com", `name="scopes" value="profile email"`, `value="allow"`, `value="deny"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "Stay connected") || strings.Contains(body, "openid") {
		t.Error("page lists a scope that was not asked for")
	}

	// 3. Allow: remembered (sorted, without openid), audited, continued.
	wantRedirect(t, b.answer(id, "allow", "profile email"), callbackURL(id))
	if got := e.grant(u.ID, "pass"); !slices.Equal(got, []string{"email", "profile"}) {
		t.Fatalf("grant = %q", got)
	}
	evs := e.audit(u.ID, KindConsentGranted)
	if len(evs) != 1 || evs[0].ClientID != "pass" || evs[0].Detail["scopes"] != "profile email" || evs[0].IP != "192.0.2.1" {
		t.Fatalf("granted events = %+v", evs)
	}
	if got := e.recorded(&e.completed); !slices.Equal(got, []string{id}) {
		t.Fatalf("completed = %q", got)
	}
	if ar, _ := e.authRequest(id); !ar.Done {
		t.Fatal("request not finished after allow")
	}

	// 4. The same scopes again: straight through.
	id2 := e.newRequest("pass", "openid email profile")
	wantRedirect(t, b.authorize(id2), callbackURL(id2))

	// 5. A new scope: asked for that scope only.
	id3 := e.newRequest("pass", "openid email offline_access")
	wantRedirect(t, b.authorize(id3), consentURL(id3))
	body = b.get(consentURL(id3)).Body.String()
	if !strings.Contains(body, "<li>Stay connected when you are not using it</li>") || strings.Contains(body, "Your email address") {
		t.Fatalf("page for the new scope:\n%s", body)
	}
	wantRedirect(t, b.answer(id3, "allow", "offline_access"), callbackURL(id3))
	if got := e.grant(u.ID, "pass"); !slices.Equal(got, []string{"email", "offline_access", "profile"}) {
		t.Fatalf("merged grant = %q", got)
	}
}

func TestDenyAnswersAccessDenied(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	e.addClient("pass", "NK-PASS", false)
	b := e.signIn(u)
	id := e.newRequest("pass", "openid email")
	wantRedirect(t, b.authorize(id), consentURL(id))

	wantRedirect(t, b.answer(id, "deny", "email"), rpRedirect+"?error=access_denied&state=st")
	if got := e.recorded(&e.denied); !slices.Equal(got, []string{id}) {
		t.Fatalf("denied = %q", got)
	}
	if g := e.grant(u.ID, "pass"); g != nil {
		t.Fatalf("deny stored a grant: %q", g)
	}
	if evs := e.audit(u.ID, KindConsentDenied); len(evs) != 1 || evs[0].ClientID != "pass" {
		t.Fatalf("denied events = %+v", evs)
	}
	if _, err := e.authRequest(id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("denied request still pending: %v", err)
	}
	// The back button cannot allow it afterwards.
	if rec := b.answer(id, "allow", "email"); rec.Code != http.StatusNotFound {
		t.Fatalf("allow after deny: status %d", rec.Code)
	}
	if g := e.grant(u.ID, "pass"); g != nil || len(e.recorded(&e.completed)) != 0 {
		t.Fatal("allow after deny went through")
	}
}

func TestPromptNoneAnswersConsentRequired(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	e.addClient("pass", "NK-PASS", false)
	b := e.signIn(u)

	id := e.newRequest("pass", "openid email", "none")
	wantRedirect(t, b.authorize(id), rpRedirect+"?error=consent_required&state=st")
	if got := e.recorded(&e.consentRequired); !slices.Equal(got, []string{id}) {
		t.Fatalf("consentRequired = %q", got)
	}
	if ar, _ := e.authRequest(id); ar.UserID != "" || ar.Done {
		t.Fatalf("prompt=none request was marked: %+v", ar)
	}

	// Once granted, prompt=none signs in silently.
	if err := consent.Remember(context.Background(), e.db, u.ID, "pass", []string{"email"}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	id2 := e.newRequest("pass", "openid email", "none")
	wantRedirect(t, b.authorize(id2), callbackURL(id2))
}

func TestPromptConsentAsksAgainOnce(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	e.addClient("pass", "NK-PASS", false)
	b := e.signIn(u)
	if err := consent.Remember(context.Background(), e.db, u.ID, "pass", []string{"email", "profile"}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)

	id := e.newRequest("pass", "openid email", "consent")
	wantRedirect(t, b.authorize(id), consentURL(id))
	if body := b.get(consentURL(id)).Body.String(); !strings.Contains(body, "<li>Your email address</li>") {
		t.Fatalf("forced page lacks the granted scope:\n%s", body)
	}
	// Continue runs finish, which calls Check again: it must pass now.
	wantRedirect(t, b.answer(id, "allow", "email"), callbackURL(id))
	if got := e.recorded(&e.completed); !slices.Equal(got, []string{id}) {
		t.Fatalf("completed = %q", got)
	}
	g, err := e.db.GetConsent(context.Background(), u.ID, "pass")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Scopes, []string{"email", "profile"}) || !g.UpdatedAt.Equal(e.clk.Now()) {
		t.Fatalf("grant after forced consent = %+v", g)
	}
}

func TestAnotherUsersSessionCannotAnswer(t *testing.T) {
	e := newEnv(t)
	alice := e.addUser("alice@example.com")
	bob := e.addUser("bob@example.com")
	e.addClient("pass", "NK-PASS", false)
	ab := e.signIn(alice)
	bb := e.signIn(bob)
	id := e.newRequest("pass", "openid email profile")
	wantRedirect(t, ab.authorize(id), consentURL(id))

	if rec := bb.get(consentURL(id)); rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "alice@example.com") {
		t.Fatalf("bob's GET: status %d", rec.Code)
	}
	for _, decision := range []string{"allow", "deny"} {
		if rec := bb.answer(id, decision, "email profile"); rec.Code != http.StatusForbidden {
			t.Fatalf("bob's %s: status %d", decision, rec.Code)
		}
	}
	if e.grant(alice.ID, "pass") != nil || e.grant(bob.ID, "pass") != nil {
		t.Fatal("a grant was stored")
	}
	if len(e.audit(alice.ID, KindConsentGranted))+len(e.audit(bob.ID, KindConsentGranted))+len(e.audit(alice.ID, KindConsentDenied)) != 0 {
		t.Fatal("an answer was audited")
	}
	if len(e.recorded(&e.completed))+len(e.recorded(&e.denied))+len(e.recorded(&e.continuedWithSes)) != 0 {
		t.Fatal("bob's answer reached a callback")
	}
	ar, err := e.authRequest(id)
	if err != nil || ar.Done || ar.UserID != alice.ID {
		t.Fatalf("alice's request after bob: %+v, %v", ar, err)
	}

	// Without any session: sign in first, which comes back here.
	anon := &browser{e: e, lang: "en"}
	wantRedirect(t, anon.answer(id, "allow", "email profile"), "/login?authRequestID="+id)
	if e.grant(alice.ID, "pass") != nil {
		t.Fatal("an anonymous answer stored a grant")
	}

	// Alice herself still can.
	wantRedirect(t, ab.answer(id, "allow", "email profile"), callbackURL(id))
}

func TestConsentPageNeedsAMarkedRequest(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	e.addClient("pass", "NK-PASS", false)
	b := e.signIn(u)

	// A request Check never sent here cannot be allowed by posting to it.
	id := e.newRequest("pass", "openid email")
	if rec := b.answer(id, "allow", "email"); rec.Code != http.StatusBadRequest {
		t.Fatalf("unmarked request: status %d", rec.Code)
	}
	if rec := b.get(consentURL("nope")); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown request: status %d", rec.Code)
	}
	if rec := b.get("/consent"); rec.Code != http.StatusBadRequest {
		t.Fatalf("no request: status %d", rec.Code)
	}
	wantRedirect(t, b.authorize(id), consentURL(id))
	if rec := b.answer(id, "maybe", "email"); rec.Code != http.StatusBadRequest {
		t.Fatalf("unknown decision: status %d", rec.Code)
	}
	if e.grant(u.ID, "pass") != nil || len(e.recorded(&e.completed)) != 0 {
		t.Fatal("a bad request changed something")
	}
}

func TestStalePageIsShownAgain(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	e.addClient("pass", "NK-PASS", false)
	b := e.signIn(u)
	ctx := context.Background()
	if err := consent.Remember(ctx, e.db, u.ID, "pass", []string{"email"}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	id := e.newRequest("pass", "openid email profile")
	wantRedirect(t, b.authorize(id), consentURL(id))
	if body := b.get(consentURL(id)).Body.String(); !strings.Contains(body, `name="scopes" value="profile"`) {
		t.Fatalf("page should ask for profile only:\n%s", body)
	}
	// Revoked in another tab: the page asked for less than is now missing.
	if err := e.db.DeleteConsent(ctx, u.ID, "pass"); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, b.answer(id, "allow", "profile"), consentURL(id))
	if g := e.grant(u.ID, "pass"); g != nil {
		t.Fatalf("stale allow stored %q", g)
	}
}

func TestJapanesePageAndUnknownScope(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	e.addClient("pass", "NK-<PASS>", false)
	b := e.signIn(u)
	b.lang = "ja"
	id := e.newRequest("pass", "openid billing:read roles")
	wantRedirect(t, b.authorize(id), consentURL(id))
	rec := b.get(consentURL(id))
	body := rec.Body.String()
	for _, want := range []string{`<html lang="ja">`, "NK-&lt;PASS&gt; が次の許可を求めています:", "<li>その他のアクセス: billing:read</li>",
		"<li>所属組織とアカウント種別</li>", "許可する", "拒否する"} {
		if !strings.Contains(body, want) {
			t.Errorf("Japanese page lacks %q", want)
		}
	}
	if strings.Contains(body, "NK-<PASS>") {
		t.Error("client name not escaped")
	}
}

func TestCheckPassesHubSignIn(t *testing.T) {
	e := newEnv(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/login", nil)
	if e.h.Check(rec, req, store.AuthRequest{ID: "x", Scopes: []string{"openid", "email"}}, store.Session{ID: "s", UserID: "u"}, store.Client{}) {
		t.Fatal("Check handled a hub sign-in")
	}
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatal("Check wrote a response for a hub sign-in")
	}
}

func TestTemplatesHaveNoHardCodedText(t *testing.T) {
	found, err := web.HardCodedText(Templates)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("hard-coded text: %s", f)
	}
}

func TestEveryScopeDescriptionIsTranslated(t *testing.T) {
	e := newEnv(t)
	for _, s := range []string{"profile", "email", "offline_access", "roles", "anything"} {
		if k := consent.ScopeKey(s); !e.bundle.Has(k) {
			t.Errorf("no message %q for scope %q", k, s)
		}
	}
}

// Check decides with the client the caller read (the sign-in's, for the
// entitlement check) and reads it itself only when given another.
func TestCheckUsesTheClientItIsGiven(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alice@example.com")
	stored := e.addClient("ships", "Ships", false) // third party: consent needed
	ar, err := e.authRequest(e.newRequest("ships", "openid email"))
	if err != nil {
		t.Fatal(err)
	}
	s := store.Session{ID: "s", UserID: u.ID}
	req := httptest.NewRequest(http.MethodGet, "/login", nil)

	given := stored
	given.FirstParty = true // as the caller read it: no consent
	rec := httptest.NewRecorder()
	if e.h.Check(rec, req, ar, s, given) {
		t.Fatalf("Check read the client again instead of using the one given (answered %d)", rec.Code)
	}
	for _, other := range []store.Client{{}, {ID: "pass", FirstParty: true}} {
		rec = httptest.NewRecorder()
		if !e.h.Check(rec, req, ar, s, other) {
			t.Fatalf("given client %q: Check did not read ships and ask for consent", other.ID)
		}
		wantRedirect(t, rec, consentURL(ar.ID))
	}
}
