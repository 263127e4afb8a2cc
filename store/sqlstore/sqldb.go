package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// SQLDB adapts a database/sql pool to DB. Transactions begin with the
// driver's default mode, so a driver that should lock on BEGIN (SQLite's
// _txlock=immediate) is configured in its DSN.
func SQLDB(db *sql.DB) DB { return sqlDB{db} }

type sqlDB struct{ db *sql.DB }

func (d sqlDB) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return sqlExec(d.db.ExecContext(ctx, q, args...))
}

func (d sqlDB) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	return sqlQuery(d.db.QueryContext(ctx, q, args...))
}

func (d sqlDB) QueryRow(ctx context.Context, q string, args ...any) Row {
	return d.db.QueryRowContext(ctx, q, args...)
}

func (d sqlDB) Begin(ctx context.Context) (Tx, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return sqlTx{tx}, nil
}

func (d sqlDB) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }
func (d sqlDB) Close() error                   { return d.db.Close() }

type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return sqlExec(t.tx.ExecContext(ctx, q, args...))
}

func (t sqlTx) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	return sqlQuery(t.tx.QueryContext(ctx, q, args...))
}

func (t sqlTx) QueryRow(ctx context.Context, q string, args ...any) Row {
	return t.tx.QueryRowContext(ctx, q, args...)
}

func (t sqlTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t sqlTx) Rollback(context.Context) error { return t.tx.Rollback() }

func sqlExec(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

func sqlQuery(rows *sql.Rows, err error) (Rows, error) {
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

// sqlRows adapts *sql.Rows, whose Close returns an error that Err reports
// as well.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }
