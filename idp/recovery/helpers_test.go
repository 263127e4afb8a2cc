package recovery

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
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
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

const (
	issuer      = "https://hub.example.com"
	oldPassword = "correct horse battery staple"
	newPassword = "purple elephants juggle quietly"
)

// env is a Handler over SQLite and memory stores with the real mail
// composer, renderer and session manager.
type env struct {
	t        *testing.T
	h        *Handler
	mux      *http.ServeMux
	db       *sqlite.Store
	mem      *memory.Store
	dir      string
	clk      *storetest.Clock
	hasher   *password.Hasher
	sessions *session.Manager
	bundle   *i18n.Bundle
	composer *mail.Composer

	mu    sync.Mutex
	ended []string // session IDs passed to EndSession
}

func newEnv(t *testing.T, adjust ...func(*Deps)) *env {
	t.Helper()
	clk := storetest.NewClock(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	db := storetest.OpenSQLiteAt(t, filepath.Join(dir, "hubid.db"), clk.Now)
	mem := memory.New(memory.Options{Now: clk.Now})
	bundle, err := i18n.New(web.Messages, Messages, pwpolicy.Messages, mail.Messages)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	renderer, err := web.NewRenderer(bundle, web.Helpdesk{Email: "help@example.com"}, log, Templates)
	if err != nil {
		t.Fatal(err)
	}
	composer, err := mail.NewComposer(bundle, "help@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.New(session.Config{
		RememberIdle: 14 * 24 * time.Hour, RememberAbsolute: 90 * 24 * time.Hour,
		BrowserIdle: 8 * time.Hour, TouchInterval: time.Minute, Now: clk.Now, Rand: rand.Reader,
	}, mem)
	p := password.DefaultParams()
	p.Memory, p.Time = 64, 1
	e := &env{t: t, db: db, mem: mem, dir: dir, clk: clk, hasher: &password.Hasher{Params: p},
		sessions: sessions, bundle: bundle, composer: composer}
	d := Deps{
		Directory: db,
		Sessions:  sessions,
		EndSession: func(ctx context.Context, id string) error {
			e.mu.Lock()
			e.ended = append(e.ended, id)
			e.mu.Unlock()
			return sessions.End(ctx, id)
		},
		Counters: mem,
		Hasher:   e.hasher,
		Composer: composer,
		Renderer: renderer,
		Guard:    &hub.Guard{Sessions: sessions, Directory: db, Renderer: renderer, Logger: log},
		Issuer:   issuer,
		Now:      clk.Now,
		Rand:     rand.Reader,
		Logger:   log,
	}
	for _, f := range adjust {
		f(&d)
	}
	e.h = New(d)
	e.mux = http.NewServeMux()
	e.h.Mount(e.mux)
	t.Cleanup(e.h.Wait)
	return e
}

// addUser creates an enabled user whose password is oldPassword.
func (e *env) addUser(email, name string, verified bool) store.User {
	e.t.Helper()
	hash, err := e.hasher.Hash(pwpolicy.Normalize(oldPassword))
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clk.Now()
	u := store.User{ID: "u-" + strings.ReplaceAll(email, "@", "-"), Email: email, Name: name, EmailVerified: verified,
		PasswordHash: hash, PasswordChangedAt: now.Add(-24 * time.Hour), CreatedAt: now, UpdatedAt: now}
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

// do serves one request; form != nil makes it a POST.
func (e *env) do(method, target string, form url.Values, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = "198.51.100.7:40000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

// forgot posts /forgot and waits for the background job.
func (e *env) forgot(email string) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := e.do(http.MethodPost, "/forgot", url.Values{"email": {email}})
	e.h.Wait()
	return rec
}

// mails returns every queued mail, oldest first.
func (e *env) mails() []mail.Message {
	e.t.Helper()
	var out []mail.Message
	misses := 0
	for id := int64(1); misses < 20; id++ {
		m, err := e.db.GetOutbox(context.Background(), id)
		if errors.Is(err, store.ErrNotFound) {
			misses++
			continue
		}
		if err != nil {
			e.t.Fatal(err)
		}
		misses = 0
		if m.Kind != mail.OutboxKind {
			continue
		}
		var msg mail.Message
		if err := json.Unmarshal(m.Payload, &msg); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, msg)
	}
	return out
}

// subject is the subject of a kind of mail in lang.
func (e *env) subject(kind string, lang language.Tag) string {
	return e.bundle.Printer(lang).T("mail." + kind + ".subject")
}

// mailsTo returns the mails of kind queued for to.
func (e *env) mailsTo(to, kind string, lang language.Tag) []mail.Message {
	var out []mail.Message
	for _, m := range e.mails() {
		if m.To == to && m.Subject == e.subject(kind, lang) {
			out = append(out, m)
		}
	}
	return out
}

var linkRe = regexp.MustCompile(`https://hub\.example\.com/(reset|verify)\?token=([A-Za-z0-9_-]+)`)

// lastLink returns the token of the last link of kind ("reset", "verify")
// mailed to to.
func (e *env) lastLink(to, kind string) string {
	e.t.Helper()
	token := ""
	for _, m := range e.mails() {
		if m.To != to {
			continue
		}
		for _, l := range linkRe.FindAllStringSubmatch(m.Text, -1) {
			if l[1] == kind {
				token = l[2]
			}
		}
	}
	if token == "" {
		e.t.Fatalf("no %s link mailed to %s", kind, to)
	}
	return token
}

// auditKinds lists the kinds of u's audit events, oldest first.
func (e *env) auditKinds(userID string) []string {
	e.t.Helper()
	evs, err := e.db.ListAudit(context.Background(), store.AuditFilter{UserID: userID, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var kinds []string
	for i := len(evs) - 1; i >= 0; i-- {
		kinds = append(kinds, evs[i].Kind)
	}
	return kinds
}

// newSession signs u in on a new browser and returns the session.
func (e *env) newSession(u store.User) (store.Session, *http.Cookie) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	s, err := e.sessions.Create(context.Background(), rec, httptest.NewRequest(http.MethodGet, "/", nil),
		session.Params{UserID: u.ID, AuthTime: e.clk.Now(), AMR: []string{"pwd"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return s, rec.Result().Cookies()[0]
}

// wantText fails unless the page holds the translation of key (with args)
// in lang, as html/template escapes it.
func (e *env) wantText(rec *httptest.ResponseRecorder, lang language.Tag, key string, args ...any) {
	e.t.Helper()
	want := html.EscapeString(e.bundle.Printer(lang).T(key, args...))
	if !strings.Contains(rec.Body.String(), want) {
		e.t.Errorf("page lacks %q (%s):\n%s", want, key, rec.Body.String())
	}
}

// storedTokens returns the hash column of u's one-time tokens of kind,
// read straight from the database file.
func (e *env) storedTokens(userID string, kind store.OneTimeTokenKind) []string {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "hubid.db")+"?mode=ro")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT hash FROM one_time_tokens WHERE user_id = ? AND kind = ?`, userID, string(kind))
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}
