// Package sqlite is hubid's development durable store (`hubid dev`):
// store.Durable on one SQLite file through modernc.org/sqlite (pure Go, no
// cgo), implemented by store/sqlstore. Its schema is the embedded,
// numbered, append-only migrations in migrations/ (SQLite dialect).
//
// Every connection runs in WAL mode with foreign keys on and a busy
// timeout, and every read-write transaction begins with BEGIN IMMEDIATE
// (_txlock=immediate): it takes the database's write lock first, which is
// what serializes the read-modify-write closures (UpdateUser,
// UpdateSigningKeys...) across connections and processes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/classify"
	"github.com/customerhub/hubid/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a statement waits for another connection's
// write lock before it fails with an error that wraps store.ErrUnavailable.
const BusyTimeout = 10 * time.Second

// Options configure Open.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Migrate applies pending migrations before Open returns.
	Migrate bool
}

// MigrationStatus is one migration's state; AppliedAt is zero while it is
// pending.
type MigrationStatus = sqlstore.MigrationStatus

// Store is store.Durable on SQLite, plus its migrations.
type Store struct {
	*sqlstore.Store
	mig *sqlstore.Migrator
}

var _ store.Durable = (*Store)(nil)

// Dialect is SQLite's sqlstore dialect: no row locks (BEGIN IMMEDIATE
// holds the write lock for the whole transaction, and a single UPDATE runs
// under it too).
var Dialect = sqlstore.Dialect{
	Name:        "sqlite",
	TableExists: `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`,
	Classify:    classify.SQLite,
}

// Open opens (creating it if needed) the database file at path; with
// opt.Migrate it then applies pending migrations. path is a file name,
// optionally with driver parameters after '?'; ":memory:" is not supported
// (each pooled connection would get its own database).
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return nil, fmt.Errorf("sqlite: open %q: want a database file", path)
	}
	migrations, err := sqlstore.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A few connections: readers proceed in parallel under WAL, while
	// writers queue in the pool rather than spin on the busy handler.
	db.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	db.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, classify.SQLite(err))
	}
	sdb := sqlstore.SQLDB(db)
	s := &Store{Store: sqlstore.New(sdb, Dialect, sqlstore.Options{Now: opt.Now})}
	s.mig = &sqlstore.Migrator{DB: sdb, Dialect: Dialect, Migrations: migrations, Now: opt.Now}
	if opt.Migrate {
		if err := s.Migrate(ctx); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return s, nil
}

// dsn adds the connection settings to path.
func dsn(path string) string {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_synchronous", "NORMAL")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + q.Encode()
}

// Migrate applies every pending migration, each in its own immediate
// transaction, which also checks that no other process applied it
// meanwhile.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.mig.Migrate(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// MigrationStatus returns every migration, applied or pending, by version.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	st, err := s.mig.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migration status: %w", err)
	}
	return st, nil
}
