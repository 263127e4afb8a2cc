package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

// User agents of the test browsers.
const (
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaSafariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaFirefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
)

// testPassword is every test user's password.
const testPassword = "correct horse battery staple"

// emailStart records a StartEmailChange call.
type emailStart struct {
	UserID, NewEmail string
	Lang             language.Tag
}

// env is the account pages on SQLite + memory, with the real hub guard,
// session manager, throttle and hasher, and recording fakes for the
// collaborators that belong to other packages (session end with its
// back-channel logouts, the email verification, the mail).
type env struct {
	t        *testing.T
	clk      *storetest.Clock
	db       *sqlite.Store
	mem      *memory.Store
	sessions *session.Manager
	hasher   *password.Hasher
	bundle   *i18n.Bundle
	h        *Handler
	handler  http.Handler

	mu          sync.Mutex
	ended       []string
	emailStarts []emailStart
	endErr      error // EndSession fails with it when set
	startErr    error // StartEmailChange fails with it when set
	mailErr     error // PasswordChanged fails with it when set
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db := storetest.OpenSQLite(t, clk.Now)
	mem := memory.New(memory.Options{Now: clk.Now})
	t.Cleanup(func() { _ = mem.Close() })
	e := &env{t: t, clk: clk, db: db, mem: mem}
	e.sessions = session.New(session.Config{
		RememberIdle: 14 * 24 * time.Hour, RememberAbsolute: 90 * 24 * time.Hour, BrowserIdle: 8 * time.Hour,
		TouchInterval: time.Minute, Now: clk.Now,
	}, mem)
	p := password.DefaultParams()
	p.Memory, p.Time = 64, 1
	e.hasher = &password.Hasher{Params: p}
	var err error
	e.bundle, err = i18n.New(web.Messages, hub.Messages, Messages, KindMessages, pwpolicy.Messages, mail.Messages)
	if err != nil {
		t.Fatal(err)
	}
	realComposer, err := mail.NewComposer(e.bundle, "help@example.com")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	renderer, err := web.NewRenderer(e.bundle, web.Helpdesk{Email: "help@example.com"}, log, hub.Templates, Templates)
	if err != nil {
		t.Fatal(err)
	}
	guard := &hub.Guard{Sessions: e.sessions, Directory: db, Renderer: renderer, Logger: log}
	h := New(Deps{
		Guard: guard, Renderer: renderer, Store: db, Sessions: e.sessions,
		EndSession: func(ctx context.Context, id string) error {
			e.mu.Lock()
			fail := e.endErr
			e.mu.Unlock()
			if fail != nil {
				return fail
			}
			e.mu.Lock()
			e.ended = append(e.ended, id)
			e.mu.Unlock()
			return e.sessions.End(ctx, id)
		},
		Hasher: e.hasher,
		Limiter: &throttle.Limiter{Counters: mem, Now: clk.Now,
			Account: throttle.Policy{DelayAfter: 5, LockAfter: 20, Window: 15 * time.Minute},
			IP:      throttle.Policy{DelayAfter: 25, LockAfter: 100, Window: 15 * time.Minute}},
		StartEmailChange: func(ctx context.Context, tx store.Durable, u store.User, newEmail string, lang language.Tag) error {
			e.mu.Lock()
			fail := e.startErr
			e.emailStarts = append(e.emailStarts, emailStart{u.ID, newEmail, lang})
			e.mu.Unlock()
			if err := tx.CreateOneTimeToken(ctx, store.OneTimeToken{Hash: "tok-" + u.ID + "-" + newEmail, Kind: store.TokenVerifyEmail,
				UserID: u.ID, Email: newEmail, CreatedAt: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
				return err
			}
			if err := enqueueMail(ctx, tx, "verify_email", newEmail, lang); err != nil {
				return err
			}
			if err := enqueueMail(ctx, tx, "email_change_notice", u.Email, lang); err != nil {
				return err
			}
			return fail
		},
		Composer: &composer{e: e, real: realComposer},
		Now:      clk.Now,
		Logger:   log,
	})
	e.h = h
	mux := http.NewServeMux()
	h.Mount(mux)
	e.handler = web.LangSwitch(e.bundle, false, web.Protect(mux))
	return e
}

// composer is the real mail composer, failing on demand.
type composer struct {
	e    *env
	real *mail.Composer
}

func (c *composer) Compose(kind string, lang language.Tag, to string, data any) (mail.Message, error) {
	c.e.mu.Lock()
	fail := c.e.mailErr
	c.e.mu.Unlock()
	if fail != nil {
		return mail.Message{}, fail
	}
	return c.real.Compose(kind, lang, to, data)
}

// enqueueMail queues a stand-in mail, as the recovery fake does.
func enqueueMail(ctx context.Context, tx store.Durable, kind, to string, lang language.Tag) error {
	return mail.Enqueue(ctx, tx, mail.Message{To: to, Subject: kind + " " + lang.String(), Text: kind})
}

// mails returns the queued mails.
func (e *env) mails() []mail.Message {
	e.t.Helper()
	ms, err := e.db.ClaimOutbox(context.Background(), mail.OutboxKind, time.Now().Add(time.Hour), time.Millisecond, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []mail.Message
	for _, m := range ms {
		var mm mail.Message
		if err := json.Unmarshal(m.Payload, &mm); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, mm)
	}
	return out
}

func (e *env) endedIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.ended...)
}

var userSeq int

// addUser creates a user whose password is testPassword.
func (e *env) addUser(email, name, locale string) store.User {
	e.t.Helper()
	hash, err := e.hasher.Hash(testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	userSeq++
	now := e.clk.Now().Add(-24 * time.Hour)
	u := store.User{ID: fmt.Sprintf("user-%d", userSeq), Email: email, EmailVerified: true, Name: name, Locale: locale,
		PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) user(id string) store.User {
	e.t.Helper()
	u, err := e.db.GetUser(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) addClient(id, name, homeURL string) {
	e.t.Helper()
	now := e.clk.Now()
	if err := e.db.CreateClient(context.Background(), store.Client{ID: id, Name: name, HomeURL: homeURL,
		RedirectURIs: []string{"https://" + id + ".example/cb"}, GrantTypes: []string{"authorization_code"},
		AccessTokenType: store.AccessTokenJWT, CreatedAt: now, UpdatedAt: now}); err != nil {
		e.t.Fatal(err)
	}
}

// audit returns the user's events of kind, newest first.
func (e *env) audit(userID, kind string) []store.AuditEvent {
	e.t.Helper()
	f := store.AuditFilter{UserID: userID, Limit: 1000}
	if kind != "" {
		f.Kinds = []string{kind}
	}
	evs, err := e.db.ListAudit(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// browser is one signed-in browser of a user.
type browser struct {
	e       *env
	session store.Session
	cookie  *http.Cookie
	cookie2 *http.Cookie // e.g. the language switcher's
	ua, ip  string
	lang    string // Accept-Language
}

// signIn creates a session for u the way the sign-in page does.
func (e *env) signIn(u store.User, ua, ip string, clients ...string) *browser {
	e.t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/login/password", nil)
	s, err := e.sessions.Create(context.Background(), rec, req, session.Params{
		UserID: u.ID, AuthTime: e.clk.Now(), AMR: []string{"pwd"}, Clients: clients, IP: ip, UserAgent: ua})
	if err != nil {
		e.t.Fatal(err)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		e.t.Fatalf("session cookies: %v", cs)
	}
	return &browser{e: e, session: s, cookie: cs[0], ua: ua, ip: ip, lang: "en"}
}

func (b *browser) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	b.e.t.Helper()
	return b.send(method, target, form, nil)
}

// doWith POSTs form with extra headers.
func (b *browser) doWith(target string, form url.Values, h http.Header) *httptest.ResponseRecorder {
	b.e.t.Helper()
	return b.send(http.MethodPost, target, form, h)
}

func (b *browser) send(method, target string, form url.Values, extra http.Header) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = b.ip + ":50000"
	req.Header.Set("User-Agent", b.ua)
	req.Header.Set("Accept-Language", b.lang)
	for _, c := range []*http.Cookie{b.cookie, b.cookie2} {
		if c != nil {
			req.AddCookie(c)
		}
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	b.e.handler.ServeHTTP(rec, req)
	return rec
}

func (b *browser) get(target string) *httptest.ResponseRecorder {
	return b.do(http.MethodGet, target, nil)
}

func (b *browser) post(target string, form url.Values) *httptest.ResponseRecorder {
	return b.do(http.MethodPost, target, form)
}

// page GETs target and fails unless it answers 200.
func (b *browser) page(target string) string {
	b.e.t.Helper()
	rec := b.get(target)
	if rec.Code != http.StatusOK {
		b.e.t.Fatalf("GET %s: %d %s\n%s", target, rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	return rec.Body.String()
}

// wantRedirect fails unless rec is a 303 to want.
func wantRedirect(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
		t.Fatalf("got %d Location %q, want 303 %q\n%s", rec.Code, rec.Header().Get("Location"), want, rec.Body)
	}
}

// wantStatus fails unless rec has the status and its body holds every want.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int, want ...string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d\n%s", rec.Code, status, rec.Body)
	}
	for _, w := range want {
		if !strings.Contains(rec.Body.String(), w) {
			t.Errorf("body lacks %q\n%s", w, rec.Body)
		}
	}
}

func contains(t *testing.T, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func lacks(t *testing.T, page string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(page, b) {
			t.Errorf("page shows %q", b)
		}
	}
}

var errBoom = errors.New("boom")
