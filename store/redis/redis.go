// Package redis is the production backend of store.Ephemeral, on Redis 7
// (single node, Sentinel or Cluster) through a go-redis UniversalClient.
//
// Every record is a Redis hash under Prefix+kind+":"+id holding the
// record's JSON in field "v" and its ExpiresAt in microseconds in field
// "e", plus the few fields that single-use operations change in place
// (a code's consumption time, a refresh token's rotation). The key's TTL
// is ExpiresAt minus the injected clock, so Redis drops it in due time;
// reads also compare ExpiresAt with the injected clock, so a record past
// ExpiresAt is absent even before Redis evicts it.
//
// Every read-modify-write is one Lua script, except UpdateSession and
// UpdateAuthRequest, whose closure runs in Go under WATCH/MULTI with a
// bounded retry. Each script touches keys of one Cluster slot only: the
// keys of a refresh token family share the hash tag {familyID}, and every
// other script works on a single key. Revocations are one sorted set,
// mirrored in memory through a pub/sub channel (revocations.go). Connection failures are reported as
// errors wrapping store.ErrUnavailable.
package redis

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/classify"
)

// Options configures a Store.
type Options struct {
	// Prefix starts every key, e.g. "hubid:". It must not contain '{' or
	// '}', which would break the Cluster hash tags.
	Prefix string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the revocation mirror's state changes; nil
	// discards them.
	Logger *slog.Logger
	// Rand makes operation IDs (idempotent retries); nil means
	// crypto/rand.
	Rand io.Reader
	// WaitReplicas, when above 0, makes every write wait (Redis WAIT)
	// until that many replicas have it, at most WaitTimeout (default
	// 500 ms) and never past the request's deadline; a write they do not
	// acknowledge fails as unavailable. With Sentinel this keeps a
	// failover from losing what hubid already answered for. Not for
	// Redis Cluster (a keyless WAIT may reach another node).
	WaitReplicas int
	WaitTimeout  time.Duration
}

// Store is a store.Ephemeral on Redis.
type Store struct {
	c      goredis.UniversalClient
	w      goredis.Scripter // runs the write scripts: c, or replicated (wait.go)
	prefix string
	now    func() time.Time
	rand   io.Reader
	log    *slog.Logger
	mirror *mirror         // revocations, see revocations.go
	inval  store.Callbacks // invalidation callbacks, see invalidate.go
	stop   context.CancelFunc
	done   chan struct{}
}

var _ store.Ephemeral = (*Store)(nil)

// New returns a Store that uses client and starts following the
// revocation channel (see revocations.go); Close stops that and closes
// client. It panics if opt.Prefix contains a brace, a configuration error.
func New(client goredis.UniversalClient, opt Options) *Store {
	return newStore(client, opt, true)
}

// newStore is New; follow=false leaves the revocation mirror unused
// (every IsTokenRevoked asks Redis), for tests of that path.
func newStore(client goredis.UniversalClient, opt Options, follow bool) *Store {
	if strings.ContainsAny(opt.Prefix, "{}") {
		panic("store/redis: key prefix must not contain '{' or '}'")
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Store{c: client, w: client, prefix: opt.Prefix, now: opt.Now, mirror: newMirror(), stop: stop, done: make(chan struct{})}
	if opt.WaitReplicas > 0 {
		timeout := opt.WaitTimeout
		if timeout <= 0 {
			timeout = 500 * time.Millisecond
		}
		s.w = replicated{c: client, n: opt.WaitReplicas, timeout: timeout}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand = opt.Rand; s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log = opt.Logger; s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if !follow {
		close(s.done)
		return s
	}
	go func() {
		defer close(s.done)
		s.followRevocations(ctx)
	}()
	return s
}

// ClientConfig says how to reach Redis.
type ClientConfig struct {
	// Addrs are host:port addresses: the server (only the first is used),
	// the Sentinels when MasterName is set, or Cluster seed nodes.
	Addrs []string
	// MasterName selects Sentinel mode: the name of the monitored master.
	MasterName string
	// Cluster selects Redis Cluster mode.
	Cluster bool
	// Username and Password authenticate to the data nodes (ACL or
	// requirepass).
	Username, Password string
	// SentinelUsername and SentinelPassword authenticate to the
	// Sentinels themselves (empty: none).
	SentinelUsername, SentinelPassword string
	// DB is the database number; Cluster ignores it.
	DB int
	// TLS enables TLS (1.2 or later) with the system roots; the server
	// name is taken from each address.
	TLS bool
	// Timeout bounds each dial, read and write (0: 2 s; negative: none,
	// only the caller's context deadline, for tests). The caller's
	// context deadline always applies as well (ContextTimeoutEnabled).
	Timeout time.Duration
}

// NewClient builds a client for a single server, a Sentinel-managed
// master or a Cluster, as cfg says.
func NewClient(cfg ClientConfig) goredis.UniversalClient {
	timeout := cfg.Timeout
	switch {
	case timeout == 0:
		timeout = 2 * time.Second
	case timeout < 0:
		timeout = -1 // go-redis: no timeout of its own
	}
	opt := &goredis.UniversalOptions{
		Addrs:            cfg.Addrs,
		MasterName:       cfg.MasterName,
		Username:         cfg.Username,
		Password:         cfg.Password,
		DB:               cfg.DB,
		SentinelUsername: cfg.SentinelUsername,
		SentinelPassword: cfg.SentinelPassword,
		// Fail fast during an outage: one retry at most (go-redis's
		// default is 3, with 5 s dials), and the request's deadline
		// (listen.request_timeout) ends every call, retries included:
		// without ContextTimeoutEnabled go-redis ignores the context's
		// deadline and waits out its own timeouts, ~8 s for a refresh
		// against a hung Redis.
		DialTimeout:           timeout,
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		MaxRetries:            1,
		ContextTimeoutEnabled: true,
	}
	if timeout < 0 {
		opt.DialTimeout = 0 // go-redis's default; the context bounds it
	}
	if cfg.TLS {
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch {
	case cfg.MasterName != "":
		return goredis.NewFailoverClient(opt.Failover())
	case cfg.Cluster:
		return goredis.NewClusterClient(opt.Cluster())
	default:
		return goredis.NewClient(opt.Simple())
	}
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.fail("ping", s.c.Ping(ctx).Err())
}

// Close stops following revocations and closes the client given to New.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	return s.c.Close()
}

// Key layout. Only the refresh token family needs hash tags: its scripts
// touch a token, its successor and the family record together.
func (s *Store) key(kind, id string) string { return s.prefix + kind + ":" + id }

func (s *Store) sessionKey(id string) string      { return s.key("session", id) }
func (s *Store) userKey(userID string) string     { return s.key("user_sessions", "{"+userID+"}") }
func (s *Store) authReqKey(id string) string      { return s.key("authreq", id) }
func (s *Store) codeKey(id string) string         { return s.key("code", id) }
func (s *Store) counterKey(key string) string     { return s.key("counter", key) }
func (s *Store) familyKey(familyID string) string { return s.key("family", "{"+familyID+"}") }
func (s *Store) tokenKey(familyID, id string) string {
	return s.key("refresh", "{"+familyID+"}:"+id)
}

// totpKey is an account's last used TOTP step (a hash: step, exp).
func (s *Store) totpKey(userID string) string { return s.key("totp_last", userID) }

// micros is t in Unix microseconds, the unit scripts compare. It is passed
// to Lua as a decimal string: Lua numbers are doubles and would print large
// values in exponent form.
func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// ttlMillis is the key TTL for a record expiring at exp, rounded up so the
// key never vanishes before the record expires; ≤ 0 when already expired.
func ttlMillis(exp, now time.Time) int64 {
	d := exp.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// stamp formats a time stored in a hash field outside the JSON record.
func stamp(t time.Time) string { return t.Format(time.RFC3339Nano) }

func parseStamp(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("store/redis: bad time field: %w", err)
	}
	return t, nil
}

// opID returns a random operation ID, which a script stores with its
// result so that a retry of the same call recognises its own first run.
func (s *Store) opID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("operation ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// live reports whether a record expiring at exp still exists at now.
func live(exp, now time.Time) bool { return now.Before(exp) }

// fail wraps a Redis error for the operation op; errors that mean "not
// now" also wrap store.ErrUnavailable (store/classify decides). Errors
// never carry record IDs, which may be secrets (session IDs).
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store/redis: %s: %w", op, classify.Redis(err))
}

// sentinel returns the error reporting a sentinel condition for op.
func sentinel(op string, err error) error { return fmt.Errorf("store/redis: %s: %w", op, err) }
