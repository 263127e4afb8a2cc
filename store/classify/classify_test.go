package classify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/store"
)

// redisReply is a Redis error reply as go-redis returns it (the library's
// own type is internal; goredis.Error is the interface callers test).
type redisReply string

func (e redisReply) Error() string { return string(e) }
func (redisReply) RedisError()     {}

var errBug = errors.New("some bug")

func netErr(errno error) error {
	return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: errno}}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// want: the sentinel the classified error must wrap, or nil for "returned
// unchanged" (it must then wrap none of the sentinels).
type tcase struct {
	name string
	err  error
	want error
}

func check(t *testing.T, f func(error) error, cases []tcase) {
	t.Helper()
	sentinels := []error{store.ErrUnavailable, store.ErrAlreadyExists, store.ErrNotFound}
	for _, tc := range cases {
		got := f(tc.err)
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: %v does not wrap the driver error", tc.name, got)
		}
		for _, s := range sentinels {
			if errors.Is(got, s) != (s == tc.want) {
				t.Errorf("%s: %v: wraps %v = %v, want %v", tc.name, got, s, errors.Is(got, s), s == tc.want)
			}
		}
	}
	if f(nil) != nil {
		t.Error("nil must stay nil")
	}
}

func pg(code string) error { return fmt.Errorf("query: %w", &pgconn.PgError{Code: code, Message: "m"}) }

func TestPostgres(t *testing.T) {
	check(t, Postgres, []tcase{
		{"unique violation", pg("23505"), store.ErrAlreadyExists},
		{"foreign key violation", pg("23503"), store.ErrNotFound},
		{"connection exception", pg("08006"), store.ErrUnavailable},
		{"too many connections", pg("53300"), store.ErrUnavailable},
		{"out of memory", pg("53200"), store.ErrUnavailable},
		{"serialization failure", pg("40001"), store.ErrUnavailable},
		{"deadlock", pg("40P01"), store.ErrUnavailable},
		{"read-only replica after failover", pg("25006"), store.ErrUnavailable},
		{"statement timeout", pg("57014"), store.ErrUnavailable},
		{"admin shutdown", pg("57P01"), store.ErrUnavailable},
		{"crash shutdown", pg("57P02"), store.ErrUnavailable},
		{"starting up", pg("57P03"), store.ErrUnavailable},
		{"syntax error (a bug)", pg("42601"), nil},
		{"check violation (a bug)", pg("23514"), nil},
		{"connection reset", netErr(syscall.ECONNRESET), store.ErrUnavailable},
		{"connection refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, store.ErrUnavailable},
		{"timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, store.ErrUnavailable},
		{"unexpected EOF", fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), store.ErrUnavailable},
		{"pool exhausted (acquire hit the deadline)", fmt.Errorf("acquire: %w", context.DeadlineExceeded), store.ErrUnavailable},
		{"canceled by the client", fmt.Errorf("query: %w", context.Canceled), nil},
		{"other", errBug, nil},
	})
}

func TestRedis(t *testing.T) {
	check(t, Redis, []tcase{
		{"loading", redisReply("LOADING Redis is loading the dataset in memory"), store.ErrUnavailable},
		{"exec abort", redisReply("EXECABORT Transaction discarded because of previous errors."), store.ErrUnavailable},
		{"read-only replica after failover", redisReply("READONLY You can't write against a read only replica."), store.ErrUnavailable},
		{"master down", redisReply("MASTERDOWN Link with MASTER is down"), store.ErrUnavailable},
		{"cluster down", redisReply("CLUSTERDOWN The cluster is down"), store.ErrUnavailable},
		{"try again", redisReply("TRYAGAIN Multiple keys request during rehashing of slot"), store.ErrUnavailable},
		{"busy script", redisReply("BUSY Redis is busy running a script."), store.ErrUnavailable},
		{"no replicas", redisReply("NOREPLICAS Not enough good replicas to write."), store.ErrUnavailable},
		{"out of memory", redisReply("OOM command not allowed when used memory > 'maxmemory'."), store.ErrUnavailable},
		{"max clients", redisReply("ERR max number of clients reached"), store.ErrUnavailable},
		{"script error (a bug)", redisReply("ERR user_script:1: Script attempted to access nonexistent global variable"), nil},
		{"wrong type (a bug)", redisReply("WRONGTYPE Operation against a key holding the wrong kind of value"), nil},
		{"BUSYKEY is not BUSY", redisReply("BUSYKEY Target key name already exists."), nil},
		{"connection reset", netErr(syscall.ECONNRESET), store.ErrUnavailable},
		{"timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, store.ErrUnavailable},
		{"EOF", io.EOF, store.ErrUnavailable},
		{"pool exhausted", goredis.ErrPoolTimeout, store.ErrUnavailable},
		{"client closed", goredis.ErrClosed, store.ErrUnavailable},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), store.ErrUnavailable},
		{"canceled by the client", context.Canceled, nil},
		{"nil reply", goredis.Nil, nil},
		{"optimistic transaction lost", goredis.TxFailedErr, nil},
	})
}

func TestSQLite(t *testing.T) {
	check(t, SQLite, []tcase{
		{"deadline", fmt.Errorf("begin: %w", context.DeadlineExceeded), store.ErrUnavailable},
		{"other", errBug, nil},
	})
	// The SQLite codes are checked against the real driver in store/sqlite
	// (constraint violations in the conformance suite, busy in its tests).
}
