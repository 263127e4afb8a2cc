package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/customerhub/hubid/idp/announce"
	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/tracing"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/seal"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	"github.com/customerhub/hubid/store/postgres"
	redisstore "github.com/customerhub/hubid/store/redis"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/sqlstore"
)

// env is an opened configuration: config, stores and secrets.
type env struct {
	cfg           config.Config
	durable       store.Durable
	durableName   string
	ephemeral     store.Ephemeral
	ephemeralName string
	keyring       *seal.Keyring
	kek           seal.KEK
	previousKEKs  []seal.KEK
	hasher        *password.Hasher
	migrator      migrator
	devMailDir    string           // hubid dev: mail is written here and shown at /dev/mail
	tracing       *tracing.Tracing // hubid serve with tracing.otlp_endpoint; nil: off
	close         func()
}

// mailSender returns where mail goes: files under devMailDir in hubid
// dev, the configured SMTP server under serve, nil when none is set.
func (e *env) mailSender() (mail.Sender, error) {
	from := e.cfg.SMTP.From
	if e.devMailDir != "" {
		if from == "" {
			from = "Customer Hub <no-reply@localhost>"
		}
		return mail.NewDirSender(e.devMailDir, mail.DirConfig{From: from})
	}
	if e.cfg.SMTP.Host == "" {
		return nil, nil
	}
	pw, err := e.cfg.SMTP.Password.Resolve(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("smtp.password: %w", err)
	}
	return mail.NewSMTPSender(mail.SMTPConfig{Host: e.cfg.SMTP.Host, Port: e.cfg.SMTP.Port,
		Username: e.cfg.SMTP.Username, Password: pw, From: from, TLS: mail.TLSMode(e.cfg.SMTP.TLS)})
}

// migrator is what `hubid migrate` needs from a SQL backend.
type migrator interface {
	Migrate(ctx context.Context) error
	MigrationStatus(ctx context.Context) ([]sqlstore.MigrationStatus, error)
}

func hasherFor(c config.Config) *password.Hasher {
	p := password.DefaultParams()
	p.Memory, p.Time, p.Threads = c.Password.MemoryKiB, c.Password.Iterations, c.Password.Parallelism
	raiseMemoryLimit(os.LookupEnv, p.Memory)
	return &password.Hasher{Params: p}
}

// loadServeConfig loads and validates a config file for serve/admin use.
func loadServeConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Config{}, fmt.Errorf("%w: --config FILE is required", errUsage)
	}
	return config.LoadServe(path)
}

func loadKeyring(c config.Config) (*seal.Keyring, []seal.KEK, error) {
	refs := append([]config.SecretRef{c.KEK.Current}, c.KEK.Previous...)
	keks := make([]seal.KEK, 0, len(refs))
	for i, r := range refs {
		v, err := r.Resolve(os.Getenv)
		if err == nil && v == "" {
			err = fmt.Errorf("not set")
		}
		if err != nil {
			return nil, nil, fmt.Errorf("kek %d: %w", i, err)
		}
		k, err := seal.ParseKEK(v)
		if err != nil {
			return nil, nil, fmt.Errorf("kek %d: %w", i, err)
		}
		keks = append(keks, k)
	}
	kr, err := seal.NewKeyring(keks[0], keks[1:]...)
	return kr, keks, err
}

func postgresDSN(c config.Config) (string, error) {
	dsn := c.Postgres.DSN
	pw, err := c.Postgres.Password.Resolve(os.Getenv)
	if err != nil {
		return "", fmt.Errorf("postgres.password: %w", err)
	}
	if pw == "" {
		return dsn, nil
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " password=" + pw, nil
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String(), nil
}

// withPoolSize sets pgxpool's pool_max_conns unless the DSN sets it.
func withPoolSize(dsn string, n int32) string {
	if n <= 0 || strings.Contains(dsn, "pool_max_conns") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return fmt.Sprintf("%s pool_max_conns=%d", dsn, n)
	}
	q := u.Query()
	q.Set("pool_max_conns", fmt.Sprint(n))
	u.RawQuery = q.Encode()
	return u.String()
}

// openServe opens PostgreSQL and Redis as configured, untraced (operator
// commands).
func openServe(ctx context.Context, c config.Config, migrate bool) (*env, error) {
	return openTraced(ctx, c, migrate, nil)
}

// openTraced is openServe with PostgreSQL and Redis calls traced by tr
// (nil: off).
func openTraced(ctx context.Context, c config.Config, migrate bool, tr *tracing.Tracing) (*env, error) {
	kr, keks, err := loadKeyring(c)
	if err != nil {
		return nil, err
	}
	kek := keks[0]
	dsn, err := postgresDSN(c)
	if err != nil {
		return nil, err
	}
	pg, err := postgres.Open(ctx, withPoolSize(dsn, c.Postgres.MaxConns), postgres.Options{Now: time.Now, Tracer: tr.Postgres()})
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if migrate {
		if err := pg.Migrate(ctx); err != nil {
			pg.Close()
			return nil, fmt.Errorf("postgres migrate: %w", err)
		}
	}
	rcfg, err := redisClientConfig(c.Redis, os.Getenv)
	if err != nil {
		pg.Close()
		return nil, err
	}
	rc := redisstore.NewClient(rcfg)
	if err := tr.Redis(rc); err != nil {
		_ = rc.Close()
		pg.Close()
		return nil, err
	}
	log := newLogger(c, os.Stderr)
	rs := redisstore.New(rc, redisstore.Options{Prefix: c.Redis.KeyPrefix, Now: time.Now,
		Logger:       log.With(slog.String("component", "redis")),
		WaitReplicas: c.Redis.WaitReplicas, WaitTimeout: c.Redis.WaitTimeout.D()})
	return &env{
		// The writes of every command that cached records depend on
		// (users, memberships, organizations, entitlements) announce
		// themselves, so that running replicas drop their cached copies
		// (idp/announce).
		cfg: c, durable: announce.Notifying(pg, rs, log), durableName: "postgres", ephemeral: rs, ephemeralName: "redis",
		keyring: kr, kek: kek, previousKEKs: keks[1:], hasher: hasherFor(c), migrator: pg, tracing: tr,
		close: func() { _ = rs.Close(); _ = pg.Close() },
	}, nil
}

// redisClientConfig turns the redis section into how store/redis reaches
// Redis: a standalone server, a Sentinel-managed master or a Cluster
// (config.Validate lets only one be configured).
func redisClientConfig(r config.Redis, getenv func(string) string) (redisstore.ClientConfig, error) {
	pw, err := r.Password.Resolve(getenv)
	if err != nil {
		return redisstore.ClientConfig{}, fmt.Errorf("redis.password: %w", err)
	}
	cc := redisstore.ClientConfig{Username: r.Username, Password: pw, DB: r.DB, TLS: r.TLS}
	switch {
	case r.Sentinel.MasterName != "":
		spw, err := r.Sentinel.Password.Resolve(getenv)
		if err != nil {
			return cc, fmt.Errorf("redis.sentinel.password: %w", err)
		}
		cc.Addrs, cc.MasterName = r.Sentinel.Addrs, r.Sentinel.MasterName
		cc.SentinelUsername, cc.SentinelPassword = r.Sentinel.Username, spw
	case len(r.Cluster.Addrs) > 0:
		cc.Addrs, cc.Cluster = r.Cluster.Addrs, true
	default:
		cc.Addrs = r.Addrs
	}
	return cc, nil
}

// devConfig is the configuration of `hubid dev`.
func devConfig(listen string) (config.Config, error) {
	c := config.Defaults()
	host, port, err := splitListen(listen)
	if err != nil {
		return c, err
	}
	c.Issuer = "http://" + host + ":" + port
	c.Listen.HTTP = listen
	c.Listen.Metrics = ""
	c.Listen.ShutdownDelay = 0 // no load balancer in front: stop at once
	c.Log.Format = "text"
	c.KEK = config.KEK{}
	// The demo's pre-registration window is open: it started 30 days ago
	// and ends in 60, with the cutover two weeks later.
	now := time.Now().UTC().Truncate(time.Hour)
	c.Migration.PreregistrationStart = now.AddDate(0, 0, -30).Format(time.RFC3339)
	c.Migration.PreregistrationEnd = now.AddDate(0, 0, 60).Format(time.RFC3339)
	c.Migration.Cutover = now.AddDate(0, 0, 74).Format(time.RFC3339)
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// openDev opens SQLite and memory in the data directory.
func openDev(ctx context.Context, c config.Config, dir string) (*env, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	kek, err := seal.LoadOrCreateFile(filepath.Join(dir, "kek"), rand.Reader)
	if err != nil {
		return nil, err
	}
	kr, err := seal.NewKeyring(kek)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "hubid.db"), sqlite.Options{Now: time.Now})
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite migrate: %w", err)
	}
	// Sessions, refresh tokens and the rest survive a restart of
	// `hubid dev`: saved to the data directory about a second after each
	// change (so a kill -9 or a crash loses at most that) and on close,
	// loaded here. An unreadable file costs the sign-ins, never the start.
	log := newLogger(c, os.Stderr)
	mem := memory.New(memory.Options{Now: time.Now})
	state := filepath.Join(dir, "ephemeral.gob")
	if err := mem.Load(state); err != nil {
		log.Warn("dev: saved sessions not loaded; starting signed out", slog.Any("err", err))
		mem = memory.New(memory.Options{Now: time.Now})
	}
	stopAutosave := mem.Autosave(state, memory.AutosaveOptions{Saved: func(err error) {
		if err != nil {
			log.Warn("dev: sessions not saved", slog.Any("err", err))
		}
	}})
	return &env{
		cfg: c, durable: announce.Notifying(db, mem, nil), durableName: "sqlite", ephemeral: mem, ephemeralName: "memory",
		keyring: kr, kek: kek, hasher: hasherFor(c), migrator: db, devMailDir: filepath.Join(dir, "mail"),
		close: func() {
			if err := stopAutosave(); err != nil {
				log.Warn("dev: sessions not saved; the next start is signed out", slog.Any("err", err))
			}
			_ = mem.Close()
			_ = db.Close()
		},
	}, nil
}

func newLogger(c config.Config, w *os.File) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if c.Log.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(httpxContext(h))
}
