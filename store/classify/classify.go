// Package classify is the one place where the errors of hubid's storage
// drivers (PostgreSQL through pgx, Redis through go-redis, SQLite through
// modernc) are given their meaning for the rest of the program:
//
//   - "not now" — the server cannot serve this request but a retry later
//     may succeed: it cannot be reached, the connection was reset or timed
//     out, the pool is exhausted, Redis is loading its data set (LOADING,
//     and EXECABORT for a transaction that a LOADING reply aborted), a
//     node is a read-only replica after a failover (READONLY, PostgreSQL
//     25006), a serialization failure or deadlock (40001, 40P01), the
//     server is shutting down or out of resources — wraps
//     store.ErrUnavailable, which the application answers with 503 /
//     temporarily_unavailable and the sign-in throttle does not count;
//   - a unique or foreign-key violation wraps store.ErrAlreadyExists or
//     store.ErrNotFound;
//   - a canceled context (the client went away) is left as it is: it is
//     neither the dependency's fault nor a reason to tell anyone to retry;
//   - anything else (a bug: a syntax error, a script error) is returned
//     unchanged and becomes a 500.
//
// The backends call these functions on every driver error, so the table
// tests here cover each case once for all callers.
package classify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	goredis "github.com/redis/go-redis/v9"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/customerhub/hubid/store"
)

func unavailable(err error) error { return fmt.Errorf("%w: %w", store.ErrUnavailable, err) }

// transport reports whether err is a failure to reach or keep a server:
// a network error (reset, refused, timeout), an unexpected end of stream
// or a context deadline (the request's time ran out waiting).
func transport(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded)
}

// Postgres classifies a pgx error; nil stays nil.
func Postgres(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch c := pgErr.Code; {
		case c == "23505": // unique_violation
			return fmt.Errorf("%w: %w", store.ErrAlreadyExists, err)
		case c == "23503": // foreign_key_violation
			return fmt.Errorf("%w: referenced record missing: %w", store.ErrNotFound, err)
		case strings.HasPrefix(c, "08"), // connection_exception
			strings.HasPrefix(c, "53"), // insufficient_resources: too many connections, out of memory, disk full
			c == "40001",               // serialization_failure
			c == "40P01",               // deadlock_detected
			c == "25006",               // read_only_sql_transaction: a replica after failover
			c == "57014",               // query_canceled: statement_timeout
			c == "57P01",               // admin_shutdown
			c == "57P02",               // crash_shutdown
			c == "57P03":               // cannot_connect_now: starting up, recovering
			return unavailable(err)
		}
		return err
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.Timeout(err) || transport(err) {
		return unavailable(err)
	}
	return err
}

// redisTransient are the Redis error codes (the reply's first word) that
// mean "not now".
var redisTransient = map[string]bool{
	"LOADING":     true, // replaying the AOF/RDB after a restart
	"EXECABORT":   true, // a MULTI whose commands were refused while queued (LOADING, OOM, READONLY)
	"READONLY":    true, // a replica after failover
	"MASTERDOWN":  true, // a replica that lost its master
	"CLUSTERDOWN": true,
	"TRYAGAIN":    true,
	"BUSY":        true, // a long script runs
	"NOREPLICAS":  true,
	"OOM":         true, // maxmemory reached
}

// Redis classifies a go-redis error; nil, redis.Nil and a failed
// optimistic transaction (TxFailedErr, which the caller retries) stay as
// they are. Every error that is not a server reply — network, timeout,
// pool exhausted (ErrPoolTimeout), closed client — is "not now".
func Redis(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, goredis.Nil) || errors.Is(err, goredis.TxFailedErr) {
		return err
	}
	var reply goredis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		code, _, _ := strings.Cut(msg, " ")
		if redisTransient[code] || strings.HasPrefix(msg, "ERR max number of clients reached") {
			return unavailable(err)
		}
		return err
	}
	return unavailable(err)
}

// SQLite classifies a modernc SQLite error: unique and primary key
// violations, foreign key violations, and a lock still held by another
// connection after the busy timeout ("not now").
func SQLite(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		if err != nil && errors.Is(err, context.DeadlineExceeded) {
			return unavailable(err)
		}
		return err
	}
	switch code := e.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", store.ErrAlreadyExists, err)
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: referenced record missing: %w", store.ErrNotFound, err)
	case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
		return unavailable(err)
	}
	return err
}
