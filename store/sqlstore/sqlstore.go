// Package sqlstore is the one implementation of store.Durable shared by the
// SQL backends (store/postgres over pgx, store/sqlite over database/sql and
// modernc.org/sqlite). It talks to the database through a tiny abstraction
// (DB, Tx, Querier, Rows, Row) and a Dialect that holds the few places where
// the two databases differ, so every statement's text is written once.
//
// Conventions shared by both dialects:
//
//   - Placeholders are $1, $2, ...: PostgreSQL's syntax, which
//     modernc.org/sqlite binds by ordinal as well (store/sqlite tests it).
//   - Times are BIGINT unix microseconds, UTC. One integer code path works the
//     same on both databases (SQLite has no time type, and PostgreSQL's
//     timestamptz would need a second code path and a second rounding rule);
//     it sorts and compares as numbers, and microseconds is the precision of
//     timestamptz, so nothing finer is promised by either backend. A zero
//     time.Time is stored as NULL in the columns where zero means "not yet"
//     (ActivatedAt, UsedAt, SentAt, ...) and read back as the zero time.
//   - String lists and maps are JSON text; empty lists and maps read back as
//     nil.
//   - Emails are stored as given in `email`, and compared through
//     `email_folded` (store.FoldEmail), which carries the UNIQUE constraint.
//   - Record timestamps the caller leaves zero (CreatedAt, UpdatedAt, audit
//     Time, outbox CreatedAt and NextAttempt) are filled from Options.Now;
//     the Update* closures set UpdatedAt to Now after fn returns.
//
// Errors wrap the store sentinels with %w: unique violations become
// store.ErrAlreadyExists, missing rows (and references to missing records,
// i.e. foreign key violations) store.ErrNotFound, and connection failures
// store.ErrUnavailable (the Dialect's Classify decides).
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/customerhub/hubid/store"
)

// Querier runs statements. Placeholders are $1, $2, ...
type Querier interface {
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) Row
}

// Rows is a result set; pgx.Rows satisfies it as is.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result; Scan returns an error for which
// errors.Is(err, sql.ErrNoRows) holds when there is no row (true of both
// pgx and database/sql).
type Row interface {
	Scan(dest ...any) error
}

// Tx is an open transaction.
type Tx interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// DB is a connection pool.
type DB interface {
	Querier
	// Begin starts a transaction that takes the write lock the dialect
	// needs for read-modify-write (SQLite: BEGIN IMMEDIATE).
	Begin(ctx context.Context) (Tx, error)
	Ping(ctx context.Context) error
	Close() error
}

// Dialect holds what differs between the databases.
type Dialect struct {
	// Name is "postgres" or "sqlite"; it appears in error messages.
	Name string
	// ForUpdate is appended to SELECTs that read rows a transaction is about
	// to rewrite (" FOR UPDATE" on PostgreSQL; "" on SQLite, where BEGIN
	// IMMEDIATE already holds the database's write lock).
	ForUpdate string
	// SkipLocked is appended to the SELECT that picks outbox messages to
	// claim (" FOR UPDATE SKIP LOCKED" on PostgreSQL).
	SkipLocked string
	// KeyLock, when set, is run first in UpdateSigningKeys' transaction to
	// serialize key rotation across replicas (a transaction-scoped advisory
	// lock on PostgreSQL). SQLite's BEGIN IMMEDIATE serializes already.
	KeyLock string
	// TableExists is a query with one parameter, a table name, that returns
	// 1 when the table exists in the store's schema and 0 otherwise.
	TableExists string
	// Classify maps a driver error to one that wraps a store sentinel where
	// one applies (store.ErrAlreadyExists, store.ErrNotFound,
	// store.ErrUnavailable); it returns other errors unchanged. Nil means
	// no mapping.
	Classify func(error) error
	// BulkInsert, when set, loads rows into a table of the current
	// transaction q fast (COPY on PostgreSQL); nil means batched
	// multi-row INSERTs.
	BulkInsert func(ctx context.Context, q Querier, table string, columns []string, rows [][]any) error
}

// Options configure a Store.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store implements store.Durable over a DB. A Store bound to a transaction
// (the one InTx passes to fn) must not be used from several goroutines at
// once, nor after fn returns.
type Store struct {
	db  DB       // the pool
	q   Querier  // db, or the transaction
	tx  *txState // nil unless bound to a transaction
	d   *Dialect
	now func() time.Time
}

// txState is shared by every Store bound to one transaction.
type txState struct {
	tx         Tx
	savepoints atomic.Int64
}

var _ store.Durable = (*Store)(nil)

// New returns a Store over db.
func New(db DB, d Dialect, opt Options) *Store {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	if d.Classify == nil {
		d.Classify = func(err error) error { return err }
	}
	return &Store{db: db, q: db, d: &d, now: now}
}

// DB returns the pool the Store runs on.
func (s *Store) DB() DB { return s.db }

// Dialect returns a copy of the Store's dialect.
func (s *Store) Dialect() Dialect { return *s.d }

// Now returns the Store's clock reading, UTC, truncated to microseconds.
func (s *Store) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// InTx runs fn in one transaction. Called on a Store bound to a transaction
// it joins that transaction through a savepoint: fn's writes commit with the
// outer transaction, and when fn fails only fn's writes are undone.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Durable) error) error {
	return s.withTx(ctx, func(t *Store) error { return fn(t) })
}

// Ping checks the database can be reached.
func (s *Store) Ping(ctx context.Context) error {
	if s.tx != nil {
		var one int
		if err := s.q.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
			return s.wrap("ping", err)
		}
		return nil
	}
	return s.wrap("ping", s.db.Ping(ctx))
}

// Close closes the pool; on a transaction-bound Store it does nothing.
func (s *Store) Close() error {
	if s.tx != nil {
		return nil
	}
	return s.db.Close()
}

// withTx runs fn with a Store bound to a transaction: a new one at the root,
// a savepoint of the current one when s is already bound.
func (s *Store) withTx(ctx context.Context, fn func(*Store) error) (err error) {
	if s.tx != nil {
		return s.savepoint(ctx, fn)
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.wrap("begin", err)
	}
	t := &Store{db: s.db, q: tx, tx: &txState{tx: tx}, d: s.d, now: s.now}
	done := false
	defer func() {
		if !done {
			// fn panicked: release the connection, then let it go on.
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(t); err != nil {
		done = true
		if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil {
			return errors.Join(err, s.wrap("rollback", rbErr))
		}
		return err
	}
	done = true
	if err := tx.Commit(ctx); err != nil {
		return s.wrap("commit", err)
	}
	return nil
}

// savepoint runs fn inside a savepoint of the current transaction.
func (s *Store) savepoint(ctx context.Context, fn func(*Store) error) error {
	name := "hubid_sp" + strconv.FormatInt(s.tx.savepoints.Add(1), 10)
	if _, err := s.q.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return s.wrap("savepoint", err)
	}
	done := false
	defer func() {
		if !done {
			_, _ = s.q.Exec(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name)
		}
	}()
	if err := fn(s); err != nil {
		done = true
		if _, rbErr := s.q.Exec(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name); rbErr != nil {
			return errors.Join(err, s.wrap("rollback to savepoint", rbErr))
		}
		// Released so that deep nesting does not pile up savepoints.
		if _, relErr := s.q.Exec(context.WithoutCancel(ctx), "RELEASE SAVEPOINT "+name); relErr != nil {
			return errors.Join(err, s.wrap("release savepoint", relErr))
		}
		return err
	}
	done = true
	if _, err := s.q.Exec(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return s.wrap("release savepoint", err)
	}
	return nil
}

// write runs a single-statement write. At the root it runs as is (one
// statement is atomic); in a transaction it runs in a savepoint, so that a
// failed statement (say a duplicate key, which a caller may handle) does
// not abort the whole PostgreSQL transaction, exactly as on SQLite.
func (s *Store) write(ctx context.Context, fn func(*Store) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, fn)
	}
	return fn(s)
}

// exec runs a write and wraps its error.
func (s *Store) exec(ctx context.Context, op, sql string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *Store) error {
		var err error
		n, err = t.q.Exec(ctx, sql, args...)
		return err
	})
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}

// execOne runs a write that must affect a row: ErrNotFound otherwise.
func (s *Store) execOne(ctx context.Context, op, sql string, args ...any) error {
	n, err := s.exec(ctx, op, sql, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// Error is an error of one Store operation. It wraps the driver's error,
// classified by the dialect, or a store sentinel.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return "sqlstore: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// wrap names the operation and maps driver errors to store sentinels. An
// error wrap made already passes through unchanged.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if e := (*Error)(nil); errors.As(err, &e) {
		return err
	}
	if isNoRows(err) {
		return &Error{Op: op, Err: fmt.Errorf("%w: %w", store.ErrNotFound, err)}
	}
	return &Error{Op: op, Err: s.d.Classify(err)}
}

// notFound is the error of an operation that found no record.
func notFound(op string) error { return &Error{Op: op, Err: store.ErrNotFound} }
