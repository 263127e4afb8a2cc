// Package testenv gives tests the external services they need: a fresh
// PostgreSQL schema and a fresh Redis key prefix per test, removed at the
// end. When a service is unreachable the test is skipped, except under
// CI=true, where its absence fails the run.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Default addresses; HUBID_TEST_POSTGRES and HUBID_TEST_REDIS override them.
const (
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedis    = "127.0.0.1:6379"
)

// InCI reports whether the tests run under CI=true.
func InCI() bool { return os.Getenv("CI") == "true" }

func unavailable(tb testing.TB, what string, err error) {
	tb.Helper()
	if InCI() {
		tb.Fatalf("%s is required under CI=true but unreachable: %v", what, err)
	}
	tb.Skipf("%s unreachable (%v); skipping", what, err)
}

// Unavailable skips the test because what (a service, a shared library)
// is missing, or fails it under CI=true, where everything must be there.
func Unavailable(tb testing.TB, what string, err error) {
	tb.Helper()
	unavailable(tb, what, err)
}

// Name returns a random identifier usable as a schema name or key prefix.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PostgresDSN returns the configured server's DSN (without a schema).
func PostgresDSN() string {
	if v := os.Getenv("HUBID_TEST_POSTGRES"); v != "" {
		return v
	}
	return DefaultPostgres
}

// Postgres creates a fresh schema and returns a DSN whose search_path is
// that schema. The schema is dropped when the test ends.
func Postgres(tb testing.TB) string {
	tb.Helper()
	base := PostgresDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(tb, "PostgreSQL", err)
		return ""
	}
	schema := Name("hubid_test_")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = conn.Close(ctx)
		tb.Fatalf("create schema: %v", err)
	}
	_ = conn.Close(ctx)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(base, schema)
}

// WithSearchPath adds search_path=schema to a postgres:// URL DSN.
func WithSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return strings.TrimSpace(dsn) + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisAddr returns the configured Redis address.
func RedisAddr() string {
	if v := os.Getenv("HUBID_TEST_REDIS"); v != "" {
		return v
	}
	return DefaultRedis
}

// Redis returns the Redis address and a fresh key prefix; every key under
// the prefix is deleted when the test ends.
func Redis(tb testing.TB) (addr, prefix string) {
	tb.Helper()
	addr = RedisAddr()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(tb, "Redis", err)
		return "", ""
	}
	prefix = Name("hubidtest:") + ":"
	tb.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("clean redis prefix %s: %v", prefix, err)
		}
	})
	return addr, prefix
}

// FreeAddr returns a loopback address with a free port.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
