package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

func TestMigrationStatus(t *testing.T) {
	storetest.RunMigrationStatus(t, func(t *testing.T, now func() time.Time) storetest.Migrator {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Two processes starting together on one file: both succeed, each
// migration is applied once.
func TestConcurrentMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	const replicas = 4
	var stores []*sqlite.Store
	for range replicas {
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
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
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, versions int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	st, _ := stores[0].MigrationStatus(ctx)
	if rows != len(st) || versions != len(st) {
		t.Fatalf("schema_migrations has %d rows for %d versions, want %d", rows, versions, len(st))
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), ":memory:", sqlite.Options{}); err == nil {
		t.Fatal("Open(:memory:) succeeded; want an error")
	}
}

// The file's foreign keys and WAL mode are on for every connection.
func TestConnectionSettings(t *testing.T) {
	s := storetest.OpenSQLite(t, nil)
	ctx := context.Background()
	err := s.PutMembership(ctx, store.Membership{UserID: "ghost", OrgID: "ghost", Role: store.RoleNormal})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("membership of a missing user: %v, want ErrNotFound (foreign keys on)", err)
	}
	var mode string
	if err := s.DB().QueryRow(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}
