package orgs_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/postgres"
	"github.com/customerhub/hubid/store/storetest"
)

var t0 = time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)

// backend opens an empty durable store.
type backend func(t *testing.T, now func() time.Time) store.Durable

func sqliteBackend(t *testing.T, now func() time.Time) store.Durable {
	return storetest.OpenSQLite(t, now)
}

func postgresBackend(t *testing.T, now func() time.Time) store.Durable {
	s, err := postgres.Open(context.Background(), testenv.Postgres(t), postgres.Options{Now: now, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// durableBackends are every durable backend, for the tests that must hold
// on each.
var durableBackends = map[string]backend{"sqlite": sqliteBackend, "postgres": postgresBackend}

// mailer queues each Mail as JSON in the outbox (so a rolled-back
// transaction loses it) and remembers what it queued.
type mailer struct {
	mu   sync.Mutex
	sent []orgs.Mail
	fail error
}

func (m *mailer) QueueMail(ctx context.Context, out orgs.Outbox, msg orgs.Mail) error {
	if m.fail != nil {
		return m.fail
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := out.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "mail", Payload: b}); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

func (m *mailer) last(t *testing.T) orgs.Mail {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no mail queued")
	}
	return m.sent[len(m.sent)-1]
}

func (m *mailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// policy refuses passwords shorter than 12 characters or equal to the
// context.
type policy struct{}

func (policy) Check(pw string, context ...string) error {
	if len(pw) < 12 {
		return errors.New("too short")
	}
	for _, c := range context {
		if strings.EqualFold(pw, c) {
			return errors.New("your own words")
		}
	}
	return nil
}

type hasher struct{}

func (hasher) Hash(pw string) (string, error) { return "hashed:" + pw, nil }

// env is a service over a store with a fake clock and a recording mailer,
// holding two organizations: A (alice administrator, anna administrator,
// nora normal, vic visitor) and B (bob administrator, nora visitor),
// and services s1 (A entitled) and s2.
type env struct {
	t     *testing.T
	st    store.Durable
	clk   *storetest.Clock
	mail  *mailer
	svc   *orgs.Service
	orgA  string
	orgB  string
	users map[string]string // name -> ID
}

func newEnv(t *testing.T, open backend) *env {
	t.Helper()
	clk := storetest.NewClock(t0)
	st := open(t, clk.Now)
	m := &mailer{}
	svc, err := orgs.New(orgs.Deps{Store: st, Mailer: m, Policy: policy{}, Hasher: hasher{},
		BaseURL: "https://id.example/", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, clk: clk, mail: m, svc: svc, orgA: "orga", orgB: "orgb", users: map[string]string{}}
	ctx := context.Background()
	must(t, st.CreateOrganization(ctx, store.Organization{ID: "orga", Code: "A001", Name: "Alpha"}))
	must(t, st.CreateOrganization(ctx, store.Organization{ID: "orgb", Code: "B001", Name: "Beta"}))
	must(t, st.CreateService(ctx, store.Service{ID: "s1", Code: "nk-ships", Name: "NK-SHIPS"}))
	must(t, st.CreateService(ctx, store.Service{ID: "s2", Code: "nk-pass", Name: "NK-PASS"}))
	must(t, st.PutEntitlement(ctx, store.Entitlement{OrgID: "orga", ServiceID: "s1"}))
	for _, u := range []struct {
		name string
		in   map[string]store.Role
	}{
		{"alice", map[string]store.Role{"orga": store.RoleAdministrator}},
		{"anna", map[string]store.Role{"orga": store.RoleAdministrator}},
		{"nora", map[string]store.Role{"orga": store.RoleNormal, "orgb": store.RoleVisitor}},
		{"vic", map[string]store.Role{"orga": store.RoleVisitor}},
		{"bob", map[string]store.Role{"orgb": store.RoleAdministrator}},
	} {
		e.user(u.name)
		for org, role := range u.in {
			must(t, st.CreateMembership(ctx, store.Membership{UserID: u.name, OrgID: org, Role: role}))
		}
	}
	return e
}

// user creates an account named name (ID = name, email name@example.com).
func (e *env) user(name string) string {
	e.t.Helper()
	must(e.t, e.st.CreateUser(context.Background(), store.User{ID: name, Email: name + "@example.com",
		EmailVerified: true, Name: strings.ToUpper(name[:1]) + name[1:]}))
	e.users[name] = name
	return name
}

func (e *env) role(userID, orgID string) store.Role {
	e.t.Helper()
	m, err := e.st.GetMember(context.Background(), userID, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	must(e.t, err)
	return m.Role
}

func (e *env) audit(orgID string) []store.AuditEvent {
	e.t.Helper()
	evs, err := e.st.ListAudit(context.Background(), store.AuditFilter{OrgID: orgID, Limit: 1000})
	must(e.t, err)
	return evs
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("%s: code %q (%v), want %q", what, got, err, code)
	}
}

func p(name string) orgs.Actor { return orgs.Person(name) }
