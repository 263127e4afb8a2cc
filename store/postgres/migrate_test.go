package postgres_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/postgres"
	"github.com/customerhub/hubid/store/storetest"
)

func TestMigrationStatus(t *testing.T) {
	storetest.RunMigrationStatus(t, func(t *testing.T, now func() time.Time) storetest.Migrator {
		s, err := postgres.Open(context.Background(), testenv.Postgres(t), postgres.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// Replicas starting together on one fresh schema: every Migrate succeeds,
// each migration is applied once, and the tables are in the DSN's schema.
func TestConcurrentMigrate(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	const replicas = 4
	var stores []*postgres.Store
	for range replicas {
		s, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, versions int
	var schema string
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version), current_schema()
		FROM schema_migrations`).Scan(&rows, &versions, &schema); err != nil {
		t.Fatal(err)
	}
	st, _ := stores[0].MigrationStatus(ctx)
	if rows != len(st) || versions != len(st) {
		t.Fatalf("schema_migrations has %d rows for %d versions, want %d", rows, versions, len(st))
	}
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'users'`,
		schema).Scan(&tables); err != nil || tables != 1 {
		t.Fatalf("users table in schema %s: %d, %v", schema, tables, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'users'`).
		Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("users table in public: %d, %v", tables, err)
	}
}

// An unreachable server is store.ErrUnavailable.
func TestUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = postgres.Open(ctx, "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=2", postgres.Options{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open on a closed port: %v, want ErrUnavailable", err)
	}
}
