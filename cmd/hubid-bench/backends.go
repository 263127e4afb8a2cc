package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// backends are the PostgreSQL schema and Redis key prefix of one bench
// run, both fresh and removed by cleanup.
type backends struct {
	baseDSN, schema string
	redisAddr       string
	redisDB         int
	redisPrefix     string
	// seeded: the schema and prefix were filled by `hubid-bench seed`;
	// they are used as they are and kept.
	seeded       bool
	pgVersion    string
	redisVersion string
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// openBackends creates the schema and picks the key prefix; it also reads
// the servers' versions for the report.
func openBackends(ctx context.Context, dsn, redisAddr string, redisDB int) (*backends, error) {
	return openBackendsIn(ctx, dsn, redisAddr, redisDB, "", "")
}

// openBackendsIn is openBackends; a non-empty schema names a seeded
// schema and Redis prefix (in database redisDB) to use as they are.
func openBackendsIn(ctx context.Context, dsn, redisAddr string, redisDB int, schema, prefix string) (*backends, error) {
	b := &backends{baseDSN: dsn, schema: schema, redisAddr: redisAddr, redisDB: redisDB, redisPrefix: prefix, seeded: schema != ""}
	if !b.seeded {
		b.schema, b.redisPrefix = randomName("hubid_bench_"), randomName("hubidbench:")+":"
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_ = conn.QueryRow(cctx, "SHOW server_version").Scan(&b.pgVersion)
	if b.seeded {
		var n int
		if err := conn.QueryRow(cctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", b.schema).Scan(&n); err != nil || n != 1 {
			return nil, fmt.Errorf("postgres: seeded schema %s not found (%v)", b.schema, err)
		}
	} else if _, err := conn.Exec(cctx, "CREATE SCHEMA "+b.schema); err != nil {
		return nil, fmt.Errorf("postgres: create schema: %w", err)
	}
	rc := redis.NewClient(&redis.Options{Addr: redisAddr, DB: redisDB, DialTimeout: 2 * time.Second})
	defer rc.Close()
	info, err := rc.Info(cctx, "server").Result()
	if err != nil {
		b.cleanup()
		return nil, fmt.Errorf("redis: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			b.redisVersion = v
		}
	}
	return b, nil
}

// dsn is the DSN hubid uses: the base DSN with search_path set to the
// schema.
func (b *backends) dsn() string {
	u, err := url.Parse(b.baseDSN)
	if err != nil || u.Scheme == "" {
		return strings.TrimSpace(b.baseDSN) + " search_path=" + b.schema
	}
	q := u.Query()
	q.Set("search_path", b.schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func (b *backends) dropSchema() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, b.baseDSN)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", b.schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+b.schema+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", b.schema, err)
	}
	return nil
}

func (b *backends) deleteKeys() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc := redis.NewClient(&redis.Options{Addr: b.redisAddr, DB: b.redisDB})
	defer rc.Close()
	n := 0
	iter := rc.Scan(ctx, 0, b.redisPrefix+"*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := rc.Unlink(ctx, batch...).Err()
		n += len(batch)
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, errors.Join(flush(), iter.Err())
}

// cleanup drops the schema and deletes the keys; a seeded store is kept.
func (b *backends) cleanup() error {
	if b.seeded {
		return nil
	}
	err := b.dropSchema()
	if _, kerr := b.deleteKeys(); kerr != nil {
		err = errors.Join(err, fmt.Errorf("delete redis keys %s*: %w", b.redisPrefix, kerr))
	}
	return err
}
