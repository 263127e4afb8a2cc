package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// isNoRows reports a QueryRow that found nothing (pgx.ErrNoRows proxies
// sql.ErrNoRows, so one test serves both drivers).
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// micros converts a time to the stored form: unix microseconds, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros is micros, with the zero time stored as NULL.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros converts a stored time back, in UTC.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// orNow returns t, or now when t is zero.
func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// timeCol scans a BIGINT microseconds column, NULL as the zero time, into
// a time.Time. Both pgx and database/sql honour sql.Scanner.
type timeCol struct{ t *time.Time }

// ts returns a scan target for a time column.
func ts(t *time.Time) timeCol { return timeCol{t} }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = fromMicros(v)
	case int32:
		*c.t = fromMicros(int64(v))
	default:
		return fmt.Errorf("sqlstore: time column holds %T, want an integer", src)
	}
	return nil
}

// jsonCol scans a JSON text column into dst (a *[]string or
// *map[string]string); an empty list or map becomes nil.
type jsonCol struct{ dst any }

// js returns a scan target for a JSON column.
func js(dst any) jsonCol { return jsonCol{dst} }

// Scan implements sql.Scanner.
func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqlstore: JSON column holds %T, want text", src)
	}
	switch d := c.dst.(type) {
	case *[]string:
		*d = nil
		if len(b) > 0 {
			if err := json.Unmarshal(b, d); err != nil {
				return fmt.Errorf("sqlstore: decode JSON list: %w", err)
			}
		}
		if len(*d) == 0 {
			*d = nil
		}
	case *map[string]string:
		*d = nil
		if len(b) > 0 {
			if err := json.Unmarshal(b, d); err != nil {
				return fmt.Errorf("sqlstore: decode JSON map: %w", err)
			}
		}
		if len(*d) == 0 {
			*d = nil
		}
	default:
		return fmt.Errorf("sqlstore: cannot decode JSON into %T", c.dst)
	}
	return nil
}

// jsonList encodes a string list as JSON text ("[]" when empty).
func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // a []string always marshals
	return string(b)
}

// jsonMap encodes a string map as JSON text ("{}" when empty).
func jsonMap(v map[string]string) string {
	if len(v) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(v) // a map[string]string always marshals
	return string(b)
}

// bytesCol scans a BYTEA/BLOB column; empty reads back as nil, and the
// bytes are copied (database/sql may reuse its buffer).
type bytesCol struct{ dst *[]byte }

// bs returns a scan target for a bytes column.
func bs(dst *[]byte) bytesCol { return bytesCol{dst} }

// Scan implements sql.Scanner.
func (c bytesCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.dst = nil
	case []byte:
		*c.dst = nil
		if len(v) > 0 {
			*c.dst = append([]byte(nil), v...)
		}
	case string:
		*c.dst = nil
		if len(v) > 0 {
			*c.dst = []byte(v)
		}
	default:
		return fmt.Errorf("sqlstore: bytes column holds %T", src)
	}
	return nil
}

// blob returns b for a NOT NULL bytes column (pgx sends a nil slice as
// NULL).
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanner is what Row and Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// collect reads every row of rows with scan, and closes rows.
func collect[T any](rows Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// list runs a query and collects its rows, wrapping errors as op.
func list[T any](s *Store, ctx context.Context, op, q string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := s.q.Query(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// get runs a single-row query and scans it; no row is store.ErrNotFound.
func get[T any](s *Store, ctx context.Context, op, q string, scan func(scanner) (T, error), args ...any) (T, error) {
	v, err := scan(s.q.QueryRow(ctx, q, args...))
	if err != nil {
		var zero T
		return zero, s.wrap(op, err)
	}
	return v, nil
}

// writeRow runs a single-row write (UPDATE ... RETURNING) like get, in a
// savepoint when s is bound to a transaction.
func writeRow[T any](s *Store, ctx context.Context, op, q string, scan func(scanner) (T, error), args ...any) (T, error) {
	var v T
	err := s.write(ctx, func(t *Store) error {
		var err error
		v, err = scan(t.q.QueryRow(ctx, q, args...))
		return err
	})
	if err != nil {
		var zero T
		return zero, s.wrap(op, err)
	}
	return v, nil
}

// writeRows runs a multi-row write (UPDATE ... RETURNING) like list, in a
// savepoint when s is bound to a transaction.
func writeRows[T any](s *Store, ctx context.Context, op, q string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	var out []T
	err := s.write(ctx, func(t *Store) error {
		rows, err := t.q.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = collect(rows, scan)
		return err
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}
