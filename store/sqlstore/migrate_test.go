package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/sqlstore"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	good := fstest.MapFS{
		"m/0002_add_b.sql": file("B"),
		"m/0001_init.sql":  file("A"),
	}
	got, err := sqlstore.LoadMigrations(good, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Version != 1 || got[0].Name != "init" || got[0].SQL != "A" ||
		got[1].Version != 2 || got[1].Name != "add_b" {
		t.Fatalf("LoadMigrations = %+v", got)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": file(""), "m/0003_c.sql": file("")},
		"repeat":   {"m/0001_a.sql": file(""), "m/001_b.sql": file("")},
		"no one":   {"m/0002_b.sql": file("")},
		"bad name": {"m/0001_a.sql": file(""), "m/README.md": file("")},
		"no dir":   {},
	} {
		if _, err := sqlstore.LoadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: LoadMigrations succeeded, want an error", name)
		}
	}
}

func TestMigrator(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	v1 := sqlstore.Migration{Version: 1, Name: "init", SQL: "CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER);"}
	v2 := sqlstore.Migration{Version: 2, Name: "more", SQL: "CREATE TABLE c (z INTEGER); INSERT INTO a VALUES (1);"}
	bad := sqlstore.Migration{Version: 3, Name: "bad", SQL: "CREATE TABLE d (z INTEGER); THIS IS NOT SQL;"}
	m := &sqlstore.Migrator{DB: sqlstore.SQLDB(db), Dialect: sqlite.Dialect,
		Migrations: []sqlstore.Migration{v1}, Now: func() time.Time { return t0 }}

	status := func() []sqlstore.MigrationStatus {
		t.Helper()
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := status(); len(st) != 1 || !st[0].AppliedAt.IsZero() {
		t.Fatalf("fresh status: %+v", st)
	}
	var tables int
	_ = db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'`).Scan(&tables)
	if tables != 0 {
		t.Fatal("Status created schema_migrations; it must change nothing")
	}
	if err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	// A newer binary brings migration 2: pending, then applied.
	m.Migrations = []sqlstore.Migration{v1, v2}
	if st := status(); len(st) != 2 || !st[0].AppliedAt.Equal(t0) || !st[1].AppliedAt.IsZero() {
		t.Fatalf("status with a new migration: %+v", st)
	}
	t1 := t0.Add(time.Hour)
	m.Now = func() time.Time { return t1 }
	if err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if st := status(); !st[0].AppliedAt.Equal(t0) || !st[1].AppliedAt.Equal(t1) {
		t.Fatalf("status after second Migrate: %+v", st)
	}

	// A failing migration is rolled back whole and stays pending.
	m.Migrations = []sqlstore.Migration{v1, v2, bad}
	err = m.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "0003_bad") {
		t.Fatalf("bad migration: %v, want an error naming it", err)
	}
	_ = db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'd'`).Scan(&tables)
	if tables != 0 {
		t.Fatal("the failed migration's first statement was kept")
	}
	if st := status(); len(st) != 3 || !st[2].AppliedAt.IsZero() {
		t.Fatalf("status after failure: %+v", st)
	}

	// An older binary sees the version it does not know.
	m.Migrations = []sqlstore.Migration{v1}
	if st := status(); len(st) != 2 || st[1].Version != 2 || st[1].Name != "" || st[1].AppliedAt.IsZero() {
		t.Fatalf("status from an older binary: %+v", st)
	}
}
