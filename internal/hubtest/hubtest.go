// Package hubtest runs a whole hubid in-process for tests: embedded
// backends (SQLite + memory) always, PostgreSQL + Redis when reachable
// (required under CI=true), an httptest server whose URL is the issuer,
// and helpers to add users and clients.
package hubtest

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp"
	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/seed"
	"github.com/customerhub/hubid/idp/tracing"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/seal"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	"github.com/customerhub/hubid/store/postgres"
	redisstore "github.com/customerhub/hubid/store/redis"
	"github.com/customerhub/hubid/store/storetest"
)

// Backends lists the backend pairs tests should run on: "embedded" always,
// "external" (PostgreSQL + Redis) unless -short.
func Backends() []string {
	if testing.Short() {
		return []string{"embedded"}
	}
	return []string{"embedded", "external"}
}

// Options adjust a test server.
type Options struct {
	Backend string // "embedded" (default) or "external"
	// RedisProxy puts a cuttable TCP proxy in front of Redis (external
	// backend only); Env.RedisProxy controls it.
	RedisProxy bool
	// PostgresProxy does the same for PostgreSQL; Env.PostgresProxy
	// controls it.
	PostgresProxy bool
	// RedisTimeout is the Redis client's own per-call timeout
	// (redisstore.ClientConfig.Timeout: 0 is the production value,
	// negative none, so that only the request's deadline can end a call).
	RedisTimeout time.Duration
	Config       func(*config.Config) // adjust the configuration
	// AdminToken turns the admin APIs on with this operator token; they
	// are served by Env.Server.Internal().
	AdminToken string
	// Now is the provider's clock (default time.Now). The stores keep
	// the real time: move it only forward, by less than the lifetimes
	// the stores enforce.
	Now func() time.Time
	// Log, when set, receives the provider's log records from WARN up
	// (as text), so a test can assert on them; else ERROR records go to
	// stderr.
	Log io.Writer
	// Tracing traces requests and, on the external backend, PostgreSQL
	// and Redis calls (idp/tracing); nil: off.
	Tracing *tracing.Tracing
	// Logger, when set, replaces the provider's logger (and Log).
	Logger *slog.Logger
	// ReplicaOf starts a second hubid with the same KEK and the stores of
	// another Env: for an external one the same PostgreSQL schema and
	// Redis prefix (its own connections), for an embedded one the very
	// same SQLite and memory stores. Two replicas of one deployment.
	ReplicaOf *Env
}

// Env is a running hubid.
type Env struct {
	URL       string
	Server    *idp.Server
	Durable   store.Durable
	Ephemeral store.Ephemeral
	Hasher    *password.Hasher
	Config    config.Config
	HTTP      *httptest.Server
	MailDir   string // mail is written here (and shown at /dev/mail)
	// RedisProxy cuts and restores Redis (with Options.RedisProxy).
	RedisProxy *testenv.Proxy
	// PostgresProxy cuts and restores PostgreSQL (with
	// Options.PostgresProxy).
	PostgresProxy *testenv.Proxy

	kek                     seal.KEK
	dsn, redisAddr, redisNS string        // external backend, for replicas
	rawDurable              store.Durable // before announcing, for embedded replicas
}

// FastHasher is argon2id with tiny parameters, for tests only.
func FastHasher() *password.Hasher {
	p := password.DefaultParams()
	p.Memory, p.Time = 64, 1
	return &password.Hasher{Params: p}
}

// UnstartedServer returns an httptest server, not yet started and without
// a handler, that listens on a loopback port already, so that its address
// (the issuer) is known before the server it fronts is built.
func UnstartedServer(t testing.TB) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	_ = ts.Listener.Close()
	ts.Listener = l
	return ts
}

// New starts a hubid for the test and stops it at cleanup.
func New(t testing.TB, opt Options) *Env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ts := UnstartedServer(t)
	issuer := "http://" + ts.Listener.Addr().String()

	c := config.Defaults()
	c.Issuer = issuer
	c.Listen.HTTP = ts.Listener.Addr().String()
	c.Listen.Metrics = ""
	fast := FastHasher()
	c.Password.MemoryKiB, c.Password.Iterations = fast.Params.Memory, fast.Params.Time
	if opt.Config != nil {
		opt.Config(&c)
	}
	// The hasher follows the configuration, so that a benchmark can ask
	// for the default parameters.
	hp := password.DefaultParams()
	hp.Memory, hp.Time, hp.Threads = c.Password.MemoryKiB, c.Password.Iterations, c.Password.Parallelism
	hasher := &password.Hasher{Params: hp}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}

	var key [32]byte
	_, _ = rand.Read(key[:])
	kek := seal.NewKEK(key)
	if opt.ReplicaOf != nil {
		kek, opt.Backend = opt.ReplicaOf.kek, "external"
		if opt.ReplicaOf.dsn == "" {
			opt.Backend = "replica"
		}
	}
	kr, err := seal.NewKeyring(kek)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{URL: issuer, Hasher: hasher, Config: c, HTTP: ts, kek: kek}
	durName, ephName := "sqlite", "memory"
	switch opt.Backend {
	case "replica": // of an embedded Env: share its stores
		env.Durable, env.Ephemeral = opt.ReplicaOf.rawDurable, opt.ReplicaOf.Ephemeral
	case "", "embedded":
		env.Durable = storetest.OpenSQLite(t, time.Now)
		mem := memory.New(memory.Options{Now: time.Now})
		t.Cleanup(func() { _ = mem.Close() })
		env.Ephemeral = mem
	case "external":
		durName, ephName = "postgres", "redis"
		dsn := ""
		if opt.ReplicaOf != nil {
			dsn = opt.ReplicaOf.dsn
		} else {
			dsn = testenv.Postgres(t)
		}
		if opt.PostgresProxy {
			dsn, env.PostgresProxy = testenv.PostgresViaProxy(t, dsn)
		}
		env.dsn = dsn
		db, err := postgres.Open(ctx, dsn, postgres.Options{Now: time.Now, Tracer: opt.Tracing.Postgres()})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		env.Durable = db
		addr, prefix := "", ""
		if opt.ReplicaOf != nil {
			addr, prefix = opt.ReplicaOf.redisAddr, opt.ReplicaOf.redisNS
		} else {
			addr, prefix = testenv.Redis(t)
		}
		env.redisAddr, env.redisNS = addr, prefix
		if opt.RedisProxy {
			env.RedisProxy = testenv.NewProxy(t, addr)
			addr = env.RedisProxy.Addr()
		}
		rc := redisstore.NewClient(redisstore.ClientConfig{Addrs: []string{addr}, Timeout: opt.RedisTimeout})
		if err := opt.Tracing.Redis(rc); err != nil {
			t.Fatal(err)
		}
		rs := redisstore.New(rc, redisstore.Options{Prefix: prefix, Now: time.Now})
		t.Cleanup(func() { _ = rs.Close() })
		env.Ephemeral = rs
	default:
		t.Fatalf("unknown backend %q", opt.Backend)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if opt.Log != nil {
		log = slog.New(slog.NewTextHandler(opt.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if opt.Logger != nil {
		log = opt.Logger
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	env.rawDurable = env.Durable
	// As in cmd/hubid: the only durable handle announces user writes, so
	// a test changing a user through env.Durable evicts cached copies.
	if bus, ok := env.Ephemeral.(announce.Bus); ok {
		env.Durable = announce.Notifying(env.Durable, bus, log)
	}
	env.MailDir = filepath.Join(t.TempDir(), "mail")
	sender, err := mail.NewDirSender(env.MailDir, mail.DirConfig{From: "hub@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := idp.New(ctx, idp.Deps{
		Mail: sender, DevMailDir: env.MailDir, AdminToken: opt.AdminToken,
		Config: c, Durable: env.Durable, DurableName: durName, Ephemeral: env.Ephemeral, EphemeralName: ephName,
		Sealer: kr, CryptoSecret: kek.Key[:], Hasher: hasher, Now: now, Rand: rand.Reader, Logger: log,
		Tracing: opt.Tracing,
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Server = srv
	ts.Config.Handler = srv.Public()
	ts.Start()
	t.Cleanup(ts.Close)
	return env
}

// User describes a test user.
type User struct {
	Email, Password, Name string
	Org                   string // organization code; created on demand
	Role                  store.Role
	Service               string // service code the org is entitled to; created on demand
}

// AddUser creates a user (and its organization, service and entitlement).
func (e *Env) AddUser(t testing.TB, u User) store.User {
	t.Helper()
	ctx := context.Background()
	hash, err := e.Hasher.Hash(pwpolicy.Normalize(u.Password))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := store.User{ID: RandomID(), Email: u.Email, EmailVerified: true, Name: u.Name, PasswordHash: hash,
		PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := e.Durable.CreateUser(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if u.Org != "" {
		org := e.ensureOrg(t, u.Org)
		role := u.Role
		if role == "" {
			role = store.RoleNormal
		}
		if err := e.Durable.PutMembership(ctx, store.Membership{UserID: rec.ID, OrgID: org.ID, Role: role, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if u.Service != "" {
			svc := e.EnsureService(t, u.Service)
			if err := e.Durable.PutEntitlement(ctx, store.Entitlement{OrgID: org.ID, ServiceID: svc.ID, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return rec
}

func (e *Env) ensureOrg(t testing.TB, code string) store.Organization {
	ctx := context.Background()
	if o, err := e.Durable.GetOrganizationByCode(ctx, code); err == nil {
		return o
	}
	o := store.Organization{ID: RandomID(), Code: code, Name: code + " Inc.", CreatedAt: time.Now()}
	if err := e.Durable.CreateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	return o
}

// EnsureService returns the service with code, creating it.
func (e *Env) EnsureService(t testing.TB, code string) store.Service {
	t.Helper()
	ctx := context.Background()
	if s, err := e.Durable.GetServiceByCode(ctx, code); err == nil {
		return s
	}
	s := store.Service{ID: RandomID(), Code: code, Name: code, CreatedAt: time.Now()}
	if err := e.Durable.CreateService(ctx, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// AddClient registers a client; secret "" makes it public. It is
// validated like a real registration.
func (e *Env) AddClient(t testing.TB, c store.Client, secret string) store.Client {
	t.Helper()
	if secret != "" {
		c.SecretHash = clients.HashSecret(secret)
	} else {
		c.Public = true
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	if c.AccessTokenType == "" {
		c.AccessTokenType = store.AccessTokenJWT
	}
	c.FirstParty = true
	c.CreatedAt, c.UpdatedAt = time.Now(), time.Now()
	if err := clients.Validate(c); err != nil {
		t.Fatal(err)
	}
	if err := e.Durable.CreateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// RandomID returns a random opaque ID.
func RandomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	const hex = "0123456789abcdef"
	out := make([]byte, 24)
	for i, v := range b {
		out[2*i], out[2*i+1] = hex[v>>4], hex[v&15]
	}
	return string(out)
}

// RawDurable is the durable store itself, without the user-cache
// notifications in front of Durable: for tests that need its concrete
// type (bulk loading).
func (e *Env) RawDurable() store.Durable { return e.rawDurable }

// NoRedirectClient is an HTTP client with a cookie jar that follows
// redirects within the issuer and stops at any other host (the relying
// party's redirect URI), returning that response.
func (e *Env) NoRedirectClient(jar http.CookieJar) *http.Client {
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if "http://"+req.URL.Host != e.URL {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// ApplySeed applies a seed file (e.g. deploy/dev/seed.yaml).
func (e *Env) ApplySeed(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := seed.Parse(data, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Apply(context.Background(), e.Durable, f, seed.Options{Hasher: e.Hasher}); err != nil {
		t.Fatal(err)
	}
}

// Clock is the real time moved forward by Advance: a provider clock
// (Options.Now) for tests that skip ahead while the stores keep the real
// time. The zero value is the real time.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the real time plus what Advance added.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}
