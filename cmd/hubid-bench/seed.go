package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/idp/seed"
	idpsession "github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/store"
)

// `hubid-bench seed` fills a store with many users, organizations,
// browser sessions and refresh token families, for the scale figures in
// docs/benchmarks.md. PostgreSQL rows go in through COPY
// (sqlstore.BulkCreateUsers, BulkCreateMemberships), Redis records through
// pipelines of the very scripts hubid runs (redis.BulkCreateSessions,
// BulkCreateRefreshTokens), so every record is what a sign-in would have
// written. Every user shares one argon2id hash (hubid's defaults, computed
// once) of the bench password, so a seeded user signs in like any other.
//
// Secrets are derived from -key: user i's ID, session cookie and refresh
// token are HMAC-SHA256(key, kind:i), so the bench (and a test) can use
// seeded sessions and refresh tokens without a list of them. The KEK the
// bench gives hubid on a seeded store is derived from it as well.

// seedOptions are the flags of `hubid-bench seed`.
type seedOptions struct {
	users, orgs, sessions, families, batch int
	dsn, schema                            string
	migrate, redisOnly                     bool
	redis, prefix                          string
	redisDB                                int
	key                                    string
}

func parseSeedOptions(args []string, stderr io.Writer) (seedOptions, error) {
	fs := flag.NewFlagSet("hubid-bench seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o seedOptions
	fs.IntVar(&o.users, "users", 1000, "users (bench-NNNNNNN@bench.example, password "+userPassword+")")
	fs.IntVar(&o.orgs, "orgs", 10, "organizations BENCH0000…; user i is a member of organization i mod orgs")
	fs.IntVar(&o.sessions, "sessions", 1000, "live browser sessions (session i belongs to user i mod users)")
	fs.IntVar(&o.families, "families", 1000, "refresh token families, one live token each (family i: user i mod users, session i)")
	fs.IntVar(&o.batch, "batch", 10000, "records per COPY transaction and per Redis pipeline")
	fs.StringVar(&o.dsn, "dsn", envOr("HUBID_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL DSN")
	fs.StringVar(&o.schema, "schema", "", "PostgreSQL schema: created when missing and used as search_path (empty: the DSN's)")
	fs.BoolVar(&o.migrate, "migrate", true, "apply hubid's migrations first")
	fs.BoolVar(&o.redisOnly, "redis-only", false, "write only the sessions and refresh families (the users were seeded before with the same -key and -users)")
	fs.StringVar(&o.redis, "redis", envOr("HUBID_TEST_REDIS", "127.0.0.1:6379"), "Redis address")
	fs.IntVar(&o.redisDB, "redis-db", 15, "Redis database number")
	fs.StringVar(&o.prefix, "prefix", "hubidbench:", "Redis key prefix")
	fs.StringVar(&o.key, "key", "", "secret the seeded IDs, cookies, refresh tokens and the bench's KEK are derived from (required)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.key == "":
		return o, errors.New("-key is required")
	case o.users < 1 || o.orgs < 1 || o.batch < 1 || o.sessions < 0 || o.families < 0:
		return o, errors.New("-users, -orgs and -batch must be positive, -sessions and -families not negative")
	}
	return o, nil
}

// seedKeys derives the seeded secrets from the key.
type seedKeys struct{ key []byte }

func (k seedKeys) derive(kind string, i int) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(kind + ":" + strconv.Itoa(i)))
	return m.Sum(nil)
}

// idEncoding is the encoding of hubid's record IDs (idp/seed): lower-case
// unpadded base32 of 16 bytes.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func (k seedKeys) userID(i int) string { return idEncoding.EncodeToString(k.derive("user", i)[:16]) }

// sessionCookie is the cookie value of seeded session i (256 bits, as
// idp/session draws them); the store holds session.ID of it.
func (k seedKeys) sessionCookie(i int) string {
	return base64.RawURLEncoding.EncodeToString(k.derive("session", i))
}

// familyID is seeded family i's grant ID (16 bytes, as idp/oidcstore
// draws them).
func (k seedKeys) familyID(i int) string {
	return base64.RawURLEncoding.EncodeToString(k.derive("family", i)[:16])
}

// refreshToken is the value a client holds for seeded family i: family,
// a dot, 256 bits (idp/oidcstore's refreshValue); the store holds
// oidcstore.HashToken of it.
func (k seedKeys) refreshToken(i int) string {
	return k.familyID(i) + "." + base64.RawURLEncoding.EncodeToString(k.derive("refresh", i))
}

// kek is the HUBID_KEK the bench runs hubid with on a seeded store, so
// that the signing keys one run creates are readable by the next.
func (k seedKeys) kek() string { return base64.StdEncoding.EncodeToString(k.derive("kek", 0)) }

// orgCode is organization i's code.
func orgCode(i int) string { return fmt.Sprintf("BENCH%04d", i) }

// seedOrgsYAML is the seed file of a seeded store: the organizations, the
// service they are all entitled to and the bench client; users are bulk
// loaded beside it.
func seedOrgsYAML(orgs int) string {
	var b strings.Builder
	b.WriteString("organizations:\n")
	for i := range orgs {
		fmt.Fprintf(&b, "  - {code: %s, name: Bench Org %d}\n", orgCode(i), i)
	}
	b.WriteString("services:\n  - {code: bench, name: Bench Service}\nentitlements:\n")
	for i := range orgs {
		fmt.Fprintf(&b, "  - {org: %s, service: bench}\n", orgCode(i))
	}
	b.WriteString(clientYAML())
	return b.String()
}

// bulkDurable is the durable store the seeder loads (sqlstore.Store).
type bulkDurable interface {
	store.Durable
	BulkCreateUsers(ctx context.Context, users []store.User) error
	BulkCreateMemberships(ctx context.Context, ms []store.Membership) error
	Analyze(ctx context.Context, tables ...string) error
}

// bulkEphemeral is the ephemeral store the seeder loads (redis.Store).
type bulkEphemeral interface {
	BulkCreateSessions(ctx context.Context, xs []store.Session) error
	BulkCreateRefreshTokens(ctx context.Context, ts []store.RefreshToken) error
}

// seedPlan is what populate writes.
type seedPlan struct {
	users, orgs, sessions, families, batch int
	keys                                   seedKeys
	passwordHash                           string
	now                                    time.Time
	cfg                                    config.Config // lifetimes of sessions and refresh tokens
	// redisOnly writes only the Redis records, over users and
	// organizations seeded before with the same key.
	redisOnly bool
	// mark, when set, is called after each phase ("users", "sessions",
	// "families"), for measurements.
	mark func(phase string)
}

func (p seedPlan) done(phase string) {
	if p.mark != nil {
		p.mark(phase)
	}
}

// seedTimes are the durations of populate's phases.
type seedTimes struct {
	orgs, users, sessions, families time.Duration
}

// populate writes the plan's records, in batches, reporting progress.
// With p.redisOnly only the Redis records are written (the users and
// organizations exist; d is only read).
func populate(ctx context.Context, d bulkDurable, e bulkEphemeral, p seedPlan, log io.Writer) (seedTimes, error) {
	var tm seedTimes
	t0 := time.Now()
	users := 0
	if !p.redisOnly {
		if err := p.orgsAndClient(ctx, d); err != nil {
			return tm, err
		}
		users = p.users
	}
	orgIDs, err := p.orgIDs(ctx, d)
	if err != nil {
		return tm, err
	}
	tm.orgs = time.Since(t0)
	phases := []struct {
		name, what string
		n          int
		took       *time.Duration
		fn         func(lo, hi int) error
	}{
		{"users", "users", users, &tm.users, func(lo, hi int) error {
			users, ms := p.userBatch(lo, hi, orgIDs)
			return errors.Join(d.BulkCreateUsers(ctx, users), d.BulkCreateMemberships(ctx, ms))
		}},
		{"sessions", "sessions", p.sessions, &tm.sessions, func(lo, hi int) error {
			return e.BulkCreateSessions(ctx, p.sessionBatch(lo, hi, orgIDs))
		}},
		{"families", "refresh families", p.families, &tm.families, func(lo, hi int) error {
			return e.BulkCreateRefreshTokens(ctx, p.familyBatch(lo, hi))
		}},
	}
	for _, ph := range phases {
		t0 := time.Now()
		if err := batches(ph.n, p.batch, ph.what, log, ph.fn); err != nil {
			return tm, err
		}
		if ph.name == "users" && ph.n > 0 {
			// As autovacuum would, some time after: the runs that follow
			// measure a store with statistics (sqlstore.Store.Analyze).
			if err := d.Analyze(ctx, "users", "memberships", "organizations", "entitlements", "services", "clients"); err != nil {
				return tm, err
			}
		}
		*ph.took = time.Since(t0)
		p.done(ph.name)
	}
	return tm, nil
}

// orgsAndClient applies the seed file (organizations, service,
// entitlements, client).
func (p seedPlan) orgsAndClient(ctx context.Context, d bulkDurable) error {
	f, err := seed.Parse([]byte(seedOrgsYAML(p.orgs)), "hubid-bench seed")
	if err != nil {
		return err
	}
	if _, err := seed.Apply(ctx, d, f, seed.Options{Now: func() time.Time { return p.now }}); err != nil {
		return fmt.Errorf("organizations and client: %w", err)
	}
	return nil
}

// orgIDs returns the seeded organizations' IDs, organization i at i.
func (p seedPlan) orgIDs(ctx context.Context, d bulkDurable) ([]string, error) {
	orgIDs := make([]string, p.orgs)
	for i := range orgIDs {
		o, err := d.GetOrganizationByCode(ctx, orgCode(i))
		if err != nil {
			return nil, fmt.Errorf("organization %s: %w", orgCode(i), err)
		}
		orgIDs[i] = o.ID
	}
	return orgIDs, nil
}

// userBatch is users [lo, hi) and their memberships.
func (p seedPlan) userBatch(lo, hi int, orgIDs []string) ([]store.User, []store.Membership) {
	users := make([]store.User, 0, hi-lo)
	ms := make([]store.Membership, 0, hi-lo)
	for i := lo; i < hi; i++ {
		id := p.keys.userID(i)
		users = append(users, store.User{ID: id, Email: userEmail(i), EmailVerified: true,
			Name: "Bench User " + strconv.Itoa(i), PasswordHash: p.passwordHash,
			PasswordChangedAt: p.now, CreatedAt: p.now, UpdatedAt: p.now})
		ms = append(ms, store.Membership{UserID: id, OrgID: orgIDs[i%p.orgs], Role: store.RoleNormal, CreatedAt: p.now})
	}
	return users, ms
}

// sessionBatch is sessions [lo, hi), as a sign-in with "automatically
// sign in next time" into the bench client leaves them (idp/login,
// idp/session): the client listed, the user's organization chosen for it.
func (p seedPlan) sessionBatch(lo, hi int, orgIDs []string) []store.Session {
	sc := p.cfg.Sessions
	xs := make([]store.Session, 0, hi-lo)
	for i := lo; i < hi; i++ {
		xs = append(xs, store.Session{
			ID: idpsessionID(p.keys, i), UserID: p.keys.userID(i % p.users),
			OrgChoices: map[string]string{clientID: orgIDs[(i%p.users)%p.orgs]},
			AuthTime:   p.now, AMR: []string{"pwd"}, Remember: true,
			CreatedAt: p.now, LastSeen: p.now,
			AbsoluteEnd: p.now.Add(time.Duration(sc.RememberAbsolute)),
			ExpiresAt:   p.now.Add(time.Duration(sc.RememberIdle)),
			Clients:     []string{clientID}, IP: "127.0.0.1", UserAgent: "hubid-bench",
		})
	}
	return xs
}

// familyBatch is the refresh tokens of families [lo, hi), as the code
// exchange of such a sign-in leaves them (idp/oidcstore).
func (p seedPlan) familyBatch(lo, hi int) []store.RefreshToken {
	tc := p.cfg.Tokens
	exp := p.now.Add(time.Duration(tc.RefreshIdle))
	if abs := p.now.Add(time.Duration(tc.RefreshAbsolute)); abs.Before(exp) {
		exp = abs
	}
	ts := make([]store.RefreshToken, 0, hi-lo)
	for i := lo; i < hi; i++ {
		sid := ""
		if i < p.sessions {
			sid = idpsessionID(p.keys, i)
		}
		ts = append(ts, store.RefreshToken{
			ID: oidcstore.HashToken(p.keys.refreshToken(i)), FamilyID: p.keys.familyID(i),
			UserID: p.keys.userID(i % p.users), ClientID: clientID, SessionID: sid,
			Scopes: benchScopes, Audience: []string{clientID}, AMR: []string{"pwd"},
			AuthTime: p.now, Offline: true, FamilyCreatedAt: p.now, CreatedAt: p.now, ExpiresAt: exp,
		})
	}
	return ts
}

// benchScopes are the scopes the bench's sign-ins ask for.
var benchScopes = []string{"openid", "offline_access", "profile", "email"}

// batches calls fn over [0, n) in ranges of at most size, logging
// progress about every tenth of the way.
func batches(n, size int, what string, log io.Writer, fn func(lo, hi int) error) error {
	start := time.Now()
	step := max(n/10, size)
	next := step
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		if err := fn(lo, hi); err != nil {
			return fmt.Errorf("%s %d–%d: %w", what, lo, hi, err)
		}
		if hi >= next || hi == n {
			fmt.Fprintf(log, "hubid-bench seed: %s %d/%d (%.1f s)\n", what, hi, n, time.Since(start).Seconds())
			next += step
		}
	}
	return nil
}

// idpsessionID is the stored ID of seeded session i.
func idpsessionID(k seedKeys, i int) string { return idpsession.ID(k.sessionCookie(i)) }
