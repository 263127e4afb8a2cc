// Package postgres is hubid's production durable store: store.Durable on
// PostgreSQL through pgx (pgxpool), implemented by store/sqlstore. Its
// schema is the embedded, numbered, append-only migrations in migrations/,
// each applied in its own transaction under a session-level advisory lock,
// so that replicas starting together migrate once.
//
// The DSN may set search_path (a postgres:// URL's search_path parameter or
// a key=value DSN's search_path=...): the tables, the migration record and
// the advisory lock keys all belong to the current schema.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/classify"
	"github.com/customerhub/hubid/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure Open.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Migrate applies pending migrations before Open returns.
	Migrate bool
	// Tracer, when set, observes every query, batch and COPY (and, if it
	// implements them, connects and pool acquires): hubid's OpenTelemetry
	// spans (idp/tracing). Nil: none.
	Tracer pgx.QueryTracer
}

// MigrationStatus is one migration's state; AppliedAt is zero while it is
// pending.
type MigrationStatus = sqlstore.MigrationStatus

// Store is store.Durable on PostgreSQL, plus its migrations.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	mig  *sqlstore.Migrator
}

var _ store.Durable = (*Store)(nil)

// Advisory lock keys, per schema: replicas of one deployment share them,
// tests in separate schemas do not wait on each other.
const (
	migrateLockKey = `hashtextextended('hubid:migrate:' || coalesce(current_schema(), ''), 0)`
	keysLockKey    = `hashtextextended('hubid:signing_keys:' || coalesce(current_schema(), ''), 0)`
)

// Dialect is PostgreSQL's sqlstore dialect.
var Dialect = sqlstore.Dialect{
	Name:        "postgres",
	ForUpdate:   " FOR UPDATE",
	SkipLocked:  " FOR UPDATE SKIP LOCKED",
	KeyLock:     `SELECT pg_advisory_xact_lock(` + keysLockKey + `)`,
	TableExists: `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1`,
	Classify:    classify.Postgres,
	BulkInsert:  copyRows,
}

// copyRows loads rows with COPY inside the transaction q.
func copyRows(ctx context.Context, q sqlstore.Querier, table string, columns []string, rows [][]any) error {
	t, ok := q.(pgxTx)
	if !ok {
		return fmt.Errorf("postgres: COPY needs a transaction, got %T", q)
	}
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
	return err
}

// Open connects to the database at dsn and checks that it answers; with
// opt.Migrate it then applies pending migrations. An unreachable server is
// an error that wraps store.ErrUnavailable.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	if opt.Tracer != nil {
		cfg.ConnConfig.Tracer = opt.Tracer
	}
	migrations, err := sqlstore.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", classify.Postgres(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", classify.Postgres(err))
	}
	db := pgxDB{pool}
	s := &Store{
		Store: sqlstore.New(db, Dialect, sqlstore.Options{Now: opt.Now}),
		pool:  pool,
	}
	s.mig = &sqlstore.Migrator{DB: db, Dialect: Dialect, Migrations: migrations, Lock: s.lockMigrations, Now: opt.Now}
	if opt.Migrate {
		if err := s.Migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// Migrate applies every pending migration, each in its own transaction,
// while holding the schema's migration lock.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.mig.Migrate(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// MigrationStatus returns every migration, applied or pending, by version.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	st, err := s.mig.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migration status: %w", err)
	}
	return st, nil
}

// lockMigrations takes the session-level migration lock on a connection
// kept for the purpose, and returns its release.
func (s *Store) lockMigrations(ctx context.Context) (func(), error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+migrateLockKey+`)`); err != nil {
		conn.Release()
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(`+migrateLockKey+`)`); err != nil {
			// The lock's state is unknown: close the session, which
			// releases it, rather than return it to the pool.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}, nil
}

// pgxDB adapts a pgx pool to sqlstore.DB.
type pgxDB struct{ pool *pgxpool.Pool }

func (d pgxDB) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := d.pool.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (d pgxDB) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return pgxRows(d.pool.Query(ctx, q, args...))
}

func (d pgxDB) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return d.pool.QueryRow(ctx, q, args...)
}

func (d pgxDB) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return pgxTx{tx}, nil
}

func (d pgxDB) Ping(ctx context.Context) error { return d.pool.Ping(ctx) }
func (d pgxDB) Close() error                   { d.pool.Close(); return nil }

type pgxTx struct{ tx pgx.Tx }

func (t pgxTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (t pgxTx) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return pgxRows(t.tx.Query(ctx, q, args...))
}

func (t pgxTx) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return t.tx.QueryRow(ctx, q, args...)
}

func (t pgxTx) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t pgxTx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

func pgxRows(rows pgx.Rows, err error) (sqlstore.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows, nil
}
