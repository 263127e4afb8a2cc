package consentui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

// Where the fakes of the callbacks send the browser.
const (
	callbackPath = "/authorize/callback"
	rpRedirect   = "https://rp.example/cb"
)

// env is the consent page on SQLite + memory with the real session
// manager and renderer. The sign-in UI is played by GET /test/authorize
// (its start: a live session, then finish) and finish (Check, then the
// request is completed and the browser sent to op's callback), and the
// OAuth answers by recording fakes.
type env struct {
	t        *testing.T
	clk      *storetest.Clock
	db       *sqlite.Store
	mem      *memory.Store
	sessions *session.Manager
	bundle   *i18n.Bundle
	h        *Handler
	handler  http.Handler

	mu               sync.Mutex
	completed        []string // auth requests finish completed
	denied           []string // Deny
	consentRequired  []string // ConsentRequired
	continuedWithSes []string // session IDs Continue was given
	seq              int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	clk := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hubid.db"), sqlite.Options{Now: clk.Now, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	mem := memory.New(memory.Options{Now: clk.Now})
	t.Cleanup(func() { _ = mem.Close() })
	e := &env{t: t, clk: clk, db: db, mem: mem}
	e.sessions = session.New(session.Config{
		RememberIdle: 14 * 24 * time.Hour, RememberAbsolute: 90 * 24 * time.Hour, BrowserIdle: 8 * time.Hour,
		TouchInterval: time.Minute, Now: clk.Now,
	}, mem)
	e.bundle, err = i18n.New(web.Messages, Messages)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	renderer, err := web.NewRenderer(e.bundle, web.Helpdesk{Email: "help@example.com"}, log, Templates)
	if err != nil {
		t.Fatal(err)
	}
	e.h = New(Deps{
		AuthRequests: mem, Store: db, Sessions: e.sessions, Renderer: renderer,
		Deny: func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest) {
			e.record(&e.denied, ar.ID)
			http.Redirect(w, r, rpRedirect+"?error=access_denied&state="+url.QueryEscape(ar.State), http.StatusSeeOther)
		},
		ConsentRequired: func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest) {
			e.record(&e.consentRequired, ar.ID)
			http.Redirect(w, r, rpRedirect+"?error=consent_required&state="+url.QueryEscape(ar.State), http.StatusSeeOther)
		},
		Continue: func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session) {
			e.record(&e.continuedWithSes, s.ID)
			e.finish(w, r, ar, s)
		},
		Now: clk.Now, Logger: log,
	})
	mux := http.NewServeMux()
	e.h.Mount(mux)
	mux.HandleFunc("GET /test/authorize", e.start)
	e.handler = web.LangSwitch(e.bundle, false, web.Protect(mux))
	return e
}

func (e *env) record(list *[]string, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	*list = append(*list, v)
}

func (e *env) recorded(list *[]string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), *list...)
}

// start plays login's start: a live session goes straight to finish.
func (e *env) start(w http.ResponseWriter, r *http.Request) {
	ar, err := e.mem.GetAuthRequest(r.Context(), r.FormValue("authRequestID"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	s, live, err := e.sessions.Current(r.Context(), w, r)
	if err != nil || !live {
		http.Error(w, "no session", http.StatusUnauthorized)
		return
	}
	e.finish(w, r, ar, s)
}

// finish plays login's finish with the Check call it gets.
func (e *env) finish(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session) {
	var c store.Client
	if ar.ClientID != "" {
		var err error
		if c, err = e.db.GetClient(r.Context(), ar.ClientID); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	if e.h.Check(w, r, ar, s, c) {
		return
	}
	_, err := e.mem.UpdateAuthRequest(r.Context(), ar.ID, func(a *store.AuthRequest) error {
		if a.Done {
			return errors.New("already finished")
		}
		a.Done, a.UserID, a.SessionID, a.AuthTime, a.AMR = true, s.UserID, s.ID, s.AuthTime, s.AMR
		return nil
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.record(&e.completed, ar.ID)
	http.Redirect(w, r, callbackPath+"?id="+url.QueryEscape(ar.ID), http.StatusSeeOther)
}

func (e *env) addUser(email string) store.User {
	e.t.Helper()
	e.seq++
	now := e.clk.Now()
	u := store.User{ID: fmt.Sprintf("user-%d", e.seq), Email: email, EmailVerified: true, Name: email,
		CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) addClient(id, name string, firstParty bool) store.Client {
	e.t.Helper()
	now := e.clk.Now()
	c := store.Client{ID: id, Name: name, RedirectURIs: []string{rpRedirect}, GrantTypes: []string{"authorization_code"},
		AccessTokenType: store.AccessTokenJWT, FirstParty: firstParty, CreatedAt: now, UpdatedAt: now}
	if err := e.db.CreateClient(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// newRequest stores a pending authorization request as op would.
func (e *env) newRequest(clientID, scopes string, prompt ...string) string {
	e.t.Helper()
	e.seq++
	now := e.clk.Now()
	ar := store.AuthRequest{ID: fmt.Sprintf("ar-%d", e.seq), ClientID: clientID, RedirectURI: rpRedirect,
		Scopes: strings.Fields(scopes), State: "st", ResponseType: "code", Prompt: prompt,
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := e.mem.CreateAuthRequest(context.Background(), ar); err != nil {
		e.t.Fatal(err)
	}
	return ar.ID
}

func (e *env) authRequest(id string) (store.AuthRequest, error) {
	return e.mem.GetAuthRequest(context.Background(), id)
}

// grant returns the stored grant's scopes, nil when there is none.
func (e *env) grant(userID, clientID string) []string {
	e.t.Helper()
	g, err := e.db.GetConsent(context.Background(), userID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return g.Scopes
}

func (e *env) audit(userID, kind string) []store.AuditEvent {
	e.t.Helper()
	evs, err := e.db.ListAudit(context.Background(), store.AuditFilter{UserID: userID, Kinds: []string{kind}, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// browser is a browser, signed in or not.
type browser struct {
	e      *env
	cookie *http.Cookie
	lang   string
}

// signIn creates a session for u the way the sign-in page does.
func (e *env) signIn(u store.User) *browser {
	e.t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/login/password", nil)
	_, err := e.sessions.Create(context.Background(), rec, req, session.Params{
		UserID: u.ID, AuthTime: e.clk.Now(), AMR: []string{"pwd"}, IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		e.t.Fatalf("session cookies: %v", cs)
	}
	return &browser{e: e, cookie: cs[0], lang: "en"}
}

func (b *browser) send(method, target string, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = "192.0.2.1:50000"
	req.Header.Set("User-Agent", "test-browser")
	req.Header.Set("Accept-Language", b.lang)
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	rec := httptest.NewRecorder()
	b.e.handler.ServeHTTP(rec, req)
	return rec
}

func (b *browser) get(target string) *httptest.ResponseRecorder {
	return b.send(http.MethodGet, target, nil)
}

// authorize plays the browser arriving at the sign-in UI with a session.
func (b *browser) authorize(id string) *httptest.ResponseRecorder {
	return b.get("/test/authorize?authRequestID=" + url.QueryEscape(id))
}

// answer posts the consent form as the page would.
func (b *browser) answer(id, decision, scopes string) *httptest.ResponseRecorder {
	return b.send(http.MethodPost, "/consent", url.Values{"authRequestID": {id}, "decision": {decision}, "scopes": {scopes}})
}

func wantRedirect(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303 to %s; body:\n%s", rec.Code, want, rec.Body.String())
	}
	if got := rec.Header().Get("Location"); got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
}

func consentURL(id string) string  { return "/consent?authRequestID=" + url.QueryEscape(id) }
func callbackURL(id string) string { return callbackPath + "?id=" + url.QueryEscape(id) }
