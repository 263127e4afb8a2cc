package main

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// TestSeed seeds a hubid on PostgreSQL and Redis through the bulk paths
// (COPY, pipelined scripts) and uses what was seeded as a client would: a
// seeded user signs in with the bench password, a seeded refresh token
// refreshes (and its successor too), a seeded session cookie signs in
// without a password; what was not seeded is refused.
func TestSeed(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{Backend: "external"})
	bd, ok := env.RawDurable().(bulkDurable)
	if !ok {
		t.Fatalf("durable store %T has no bulk loading", env.RawDurable())
	}
	d := &analyzeSpy{bulkDurable: bd}
	e, ok := env.Ephemeral.(bulkEphemeral)
	if !ok {
		t.Fatalf("ephemeral store %T has no bulk loading", env.Ephemeral)
	}
	hash, err := env.Hasher.Hash(userPassword)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := seedPlan{users: 7, orgs: 3, sessions: 5, families: 6, batch: 2, keys: seedKeys{[]byte("test key")},
		passwordHash: hash, now: time.Now().UTC().Truncate(time.Microsecond), cfg: env.Config}
	var phases []string
	p.mark = func(ph string) { phases = append(phases, ph) }
	var log strings.Builder
	if _, err := populate(ctx, d, e, p, &log); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(phases, ","); got != "users,sessions,families" {
		t.Errorf("phases %q", got)
	}
	// The planner has statistics of what was loaded (without them the
	// claims query probed every organization: sqlstore.Store.Analyze).
	if got := strings.Join(d.tables, ","); !strings.Contains(got, "users") || !strings.Contains(got, "memberships") {
		t.Errorf("tables analyzed after the load: %q", got)
	}

	// The records are where the rest of hubid looks for them.
	u, err := d.GetUserByEmail(ctx, userEmail(4))
	if err != nil || u.ID != p.keys.userID(4) || u.PasswordHash != hash {
		t.Fatalf("user 4: %+v, %v", u, err)
	}
	ms, err := d.ListMembershipsByUser(ctx, u.ID)
	if err != nil || len(ms) != 1 || ms[0].Role != store.RoleNormal {
		t.Fatalf("memberships of user 4: %+v, %v", ms, err)
	}
	if o, err := d.GetOrganization(ctx, ms[0].OrgID); err != nil || o.Code != orgCode(4%3) {
		t.Fatalf("user 4's organization: %+v, %v", o, err)
	}
	if ss, err := env.Ephemeral.ListUserSessions(ctx, p.keys.userID(1)); err != nil || len(ss) != 1 {
		t.Fatalf("sessions of user 1: %+v, %v", ss, err)
	}

	c := newClient(env.URL, newTransport())
	defer c.transport.CloseIdleConnections()
	if _, err := c.SignIn(ctx, userEmail(6)); err != nil {
		t.Fatalf("seeded user signs in: %v", err)
	}
	next, err := c.Refresh(ctx, p.keys.refreshToken(5))
	if err != nil {
		t.Fatalf("seeded refresh token: %v", err)
	}
	if _, err := c.Refresh(ctx, next.RefreshToken); err != nil {
		t.Fatalf("successor of a seeded refresh token: %v", err)
	}
	// A seeded session is as a sign-in to the bench client leaves it (the
	// client listed, the organization chosen): SSO through it moves its
	// times and changes nothing else.
	before, err := env.Ephemeral.GetSession(ctx, idpsessionID(p.keys, 4))
	if err != nil {
		t.Fatal(err)
	}
	if before.OrgChoices[clientID] != ms[0].OrgID {
		t.Errorf("seeded session 4 remembers %v for %s; want %s", before.OrgChoices, clientID, ms[0].OrgID)
	}
	if err := c.SSO(ctx, p.keys.sessionCookie(4)); err != nil {
		t.Fatalf("seeded session: %v", err)
	}
	after, err := env.Ephemeral.GetSession(ctx, before.ID)
	if err != nil {
		t.Fatal(err)
	}
	after.LastSeen, after.ExpiresAt = before.LastSeen, before.ExpiresAt
	if !reflect.DeepEqual(after, before) {
		t.Errorf("SSO changed the seeded session beyond its times:\n%+v\nwas\n%+v", after, before)
	}
	if _, err := c.Refresh(ctx, p.keys.refreshToken(6)); err == nil {
		t.Error("a family that was not seeded refreshed")
	}
	if err := c.SSO(ctx, p.keys.sessionCookie(5)); err == nil {
		t.Error("a session that was not seeded signed in")
	}

	// Seeding again into the same stores fails rather than duplicating.
	p.orgs, p.sessions, p.families = 3, 0, 0
	if _, err := populate(ctx, d, e, p, &log); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second seed: %v, want ErrAlreadyExists", err)
	}
	// -redis-only reads the organizations and writes nothing durable.
	p.redisOnly = true
	if _, err := populate(ctx, d, e, p, &log); err != nil {
		t.Errorf("second seed, Redis only: %v", err)
	}
	if err := e.BulkCreateSessions(ctx, []store.Session{{ID: "x", UserID: p.keys.userID(0),
		ExpiresAt: time.Now().Add(time.Hour)}, {ID: idpsessionID(p.keys, 0), UserID: p.keys.userID(0),
		ExpiresAt: time.Now().Add(time.Hour)}}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("bulk session over a live one: %v, want ErrAlreadyExists", err)
	}
}

// analyzeSpy records the tables the seeder analyzes.
type analyzeSpy struct {
	bulkDurable
	tables []string
}

func (a *analyzeSpy) Analyze(ctx context.Context, tables ...string) error {
	a.tables = append(a.tables, tables...)
	return a.bulkDurable.Analyze(ctx, tables...)
}
