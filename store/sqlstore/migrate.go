package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Migration is one embedded, numbered SQL file NNNN_name.sql. Migrations
// are append-only: a released file is never edited, a change is a new file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// MigrationStatus is one migration's state; AppliedAt is zero while it is
// pending. Name is "" for a version applied by a newer binary.
type MigrationStatus struct {
	Version   int
	Name      string
	AppliedAt time.Time
}

var migrationFile = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_]+)\.sql$`)

// LoadMigrations reads the NNNN_name.sql files of dir in fsys. Versions must
// run 1, 2, 3... without gaps or repeats; other files are an error.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("sqlstore: migration %q: want a file named NNNN_name.sql", e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migration %q: %w", e.Name(), err)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration %q: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("sqlstore: migration %04d_%s: want version %d (versions run 1, 2, 3... without gaps or repeats)",
				m.Version, m.Name, i+1)
		}
	}
	return out, nil
}

// Migrator applies migrations, each in its own transaction, and records
// them in schema_migrations(version, name, applied_at).
type Migrator struct {
	DB         DB
	Dialect    Dialect
	Migrations []Migration
	// Lock, when set, is held while migrating, so that replicas starting
	// together migrate once (PostgreSQL: a session-level advisory lock on a
	// dedicated connection). Without it, each migration's transaction still
	// checks that no one applied it meanwhile, which is enough where
	// transactions are serialized (SQLite's BEGIN IMMEDIATE).
	Lock func(ctx context.Context) (release func(), err error)
	// Now stamps applied_at; nil means time.Now.
	Now func() time.Time
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// Migrate applies every pending migration, in order.
func (m *Migrator) Migrate(ctx context.Context) error {
	if m.Lock != nil {
		release, err := m.Lock(ctx)
		if err != nil {
			return m.wrap("lock migrations", err)
		}
		defer release()
	}
	if _, err := m.DB.Exec(ctx, createMigrationsTable); err != nil {
		return m.wrap("create schema_migrations", err)
	}
	applied, err := m.applied(ctx)
	if err != nil {
		return err
	}
	for _, mig := range m.Migrations {
		if _, ok := applied[mig.Version]; ok {
			continue
		}
		if err := m.apply(ctx, mig); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration in its own transaction, unless someone applied
// it meanwhile.
func (m *Migrator) apply(ctx context.Context, mig Migration) (err error) {
	op := fmt.Sprintf("migration %04d_%s", mig.Version, mig.Name)
	tx, err := m.DB.Begin(ctx)
	if err != nil {
		return m.wrap(op, err)
	}
	defer func() {
		if err != nil {
			if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil {
				err = errors.Join(err, m.wrap(op+": rollback", rbErr))
			}
		}
	}()
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`,
		mig.Version).Scan(&n); err != nil {
		return m.wrap(op, err)
	}
	if n > 0 {
		return m.wrap(op, tx.Rollback(ctx))
	}
	if _, err := tx.Exec(ctx, mig.SQL); err != nil {
		return m.wrap(op, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at)
		VALUES ($1, $2, $3)`, mig.Version, mig.Name, micros(m.now())); err != nil {
		return m.wrap(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return m.wrap(op+": commit", err)
	}
	return nil
}

// Status returns every known migration, applied or pending, and any
// version applied by a newer binary, by version. It changes nothing.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	var exists int
	if err := m.DB.QueryRow(ctx, m.Dialect.TableExists, "schema_migrations").Scan(&exists); err != nil {
		return nil, m.wrap("migration status", err)
	}
	applied := map[int]time.Time{}
	if exists > 0 {
		var err error
		if applied, err = m.applied(ctx); err != nil {
			return nil, err
		}
	}
	var out []MigrationStatus
	for _, mig := range m.Migrations {
		out = append(out, MigrationStatus{Version: mig.Version, Name: mig.Name, AppliedAt: applied[mig.Version]})
		delete(applied, mig.Version)
	}
	for v, at := range applied {
		out = append(out, MigrationStatus{Version: v, AppliedAt: at})
	}
	slices.SortFunc(out, func(a, b MigrationStatus) int { return a.Version - b.Version })
	return out, nil
}

func (m *Migrator) applied(ctx context.Context) (map[int]time.Time, error) {
	rows, err := m.DB.Query(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, m.wrap("read schema_migrations", err)
	}
	type row struct {
		v  int
		at time.Time
	}
	list, err := collect(rows, func(r scanner) (row, error) {
		var x row
		err := r.Scan(&x.v, ts(&x.at))
		return x, err
	})
	if err != nil {
		return nil, m.wrap("read schema_migrations", err)
	}
	out := make(map[int]time.Time, len(list))
	for _, x := range list {
		out[x.v] = x.at
	}
	return out, nil
}

func (m *Migrator) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Migrator) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if m.Dialect.Classify != nil {
		err = m.Dialect.Classify(err)
	}
	return &Error{Op: op, Err: err}
}
