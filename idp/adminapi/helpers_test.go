package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/postgres"
	"github.com/customerhub/hubid/store/storetest"
)

const testToken = "operator-token-0123456789-abcdefghij"

// fakeTokens accepts the tokens it was given.
type fakeTokens map[string]AccessClaims

func (f fakeTokens) Verify(_ context.Context, raw string) (AccessClaims, error) {
	if c, ok := f[raw]; ok {
		return c, nil
	}
	return AccessClaims{}, invalidToken("unknown")
}

type env struct {
	t     *testing.T
	api   *API
	store store.Durable
	clock *storetest.Clock
}

// backends lists the durable stores to run on: SQLite always, PostgreSQL
// unless -short (required under CI=true, see testenv).
func backends(t *testing.T) map[string]func(t *testing.T, now func() time.Time) store.Durable {
	m := map[string]func(t *testing.T, now func() time.Time) store.Durable{
		"sqlite": func(t *testing.T, now func() time.Time) store.Durable { return storetest.OpenSQLite(t, now) },
	}
	if !testing.Short() {
		m["postgres"] = func(t *testing.T, now func() time.Time) store.Durable {
			db, err := postgres.Open(t.Context(), testenv.Postgres(t), postgres.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			return db
		}
	}
	return m
}

// outboxMailer queues each mail as JSON in the outbox of the change's
// transaction, as idp/mail.OrgMailer does.
type outboxMailer struct{}

func (outboxMailer) QueueMail(ctx context.Context, out orgs.Outbox, m orgs.Mail) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = out.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "mail", Payload: b})
	return err
}

func newEnv(t *testing.T, d store.Durable, clock *storetest.Clock, tokens fakeTokens, clients ...string) *env {
	t.Helper()
	svc, err := orgs.New(orgs.Deps{Store: d, Mailer: outboxMailer{}, BaseURL: "https://hub.example", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Token: testToken, Issuer: "https://hub.example", Clients: clients, Tokens: tokens,
		Store: d, Orgs: svc, Legacy: legacy.New(legacy.Deps{Store: d, Now: clock.Now}), MaxBody: 1024, MaxImport: 4096, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, api: a, store: d, clock: clock}
}

// mails returns the mail queued in the outbox (leasing it).
func (e *env) mails() []orgs.Mail {
	e.t.Helper()
	msgs, err := e.store.ClaimOutbox(e.t.Context(), "mail", e.clock.Now().Add(time.Minute), 1000*time.Hour, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []orgs.Mail
	for _, m := range msgs {
		var v orgs.Mail
		if err := json.Unmarshal(m.Payload, &v); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func newSQLiteEnv(t *testing.T) *env {
	clock := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	return newEnv(t, storetest.OpenSQLite(t, clock.Now), clock, nil)
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with the operator token unless headers set another
// Authorization ("" removes it).
func (e *env) do(method, path string, body any, headers ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequestWithContext(e.t.Context(), method, path, rd)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, req)
	return reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// want fails unless the reply has the status.
func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// problem checks the reply is an RFC 9457 problem with status and code.
func (r reply) problem(t *testing.T, status int, code string) Problem {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	r.json(t, &p)
	if p.Status != status || p.Code != code || p.Type != ProblemType+code || p.Title == "" {
		t.Fatalf("problem %+v, want status %d code %s", p, status, code)
	}
	return p
}

// auditCount counts the audit events written.
func (e *env) auditCount() int {
	e.t.Helper()
	evs, err := e.store.ListAudit(e.t.Context(), store.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(evs)
}

func (e *env) addUser(id, email string) store.User {
	e.t.Helper()
	now := e.clock.Now()
	u := store.User{ID: id, Email: email, Name: "Name " + id, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
	if err := e.store.CreateUser(e.t.Context(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// together runs fn(i) for i in [0, n) on goroutines released at once.
func together(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}
