package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// errNotReplicated reports a write that the master applied but fewer
// replicas than Options.WaitReplicas acknowledged in time: a failover now
// could lose it, so the caller is told "not now" (classify makes it
// store.ErrUnavailable) instead of being promised something that may
// vanish.
var errNotReplicated = errors.New("write not acknowledged by enough replicas (WAIT)")

// replicated runs scripts like the client it wraps, each in a pipeline
// with a WAIT behind it on the same connection (WAIT counts the replicas
// that have this connection's writes), and fails a write that too few
// replicas acknowledged. Redis replication is asynchronous: without this,
// a write acknowledged by a master that a Sentinel demotes a moment later
// is lost — a sign-in's pending request or code vanishes and the person
// is told it "expired". With it, what a request was told is written is on
// a replica, and a request caught by the switch gets a clean
// "temporarily unavailable".
type replicated struct {
	c       goredis.UniversalClient
	n       int
	timeout time.Duration
}

var _ goredis.Scripter = replicated{}

// waitArgs is WAIT's arguments: r.n replicas, within r.timeout or what is
// left of ctx's deadline, whichever is shorter (never 0, which would
// block for ever).
func (r replicated) waitArgs(ctx context.Context) []any {
	d := r.timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		d = time.Until(dl)
	}
	return []any{"wait", r.n, max(d.Milliseconds(), 1)}
}

func (r replicated) run(ctx context.Context, send func(goredis.Pipeliner) *goredis.Cmd) *goredis.Cmd {
	var cmd, wait *goredis.Cmd
	_, _ = r.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		cmd = send(p)
		wait = p.Do(ctx, r.waitArgs(ctx)...)
		return nil
	})
	if cmd.Err() == nil {
		cmd.SetErr(r.check(wait))
	}
	return cmd
}

// check turns WAIT's answer into nil or an error.
func (r replicated) check(wait *goredis.Cmd) error {
	n, err := wait.Int()
	if err != nil {
		return fmt.Errorf("wait: %w", err)
	}
	if n < r.n {
		return fmt.Errorf("%w: %d of %d", errNotReplicated, n, r.n)
	}
	return nil
}

// Eval implements goredis.Scripter.
func (r replicated) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return r.run(ctx, func(p goredis.Pipeliner) *goredis.Cmd { return p.Eval(ctx, script, keys, args...) })
}

// EvalSha implements goredis.Scripter.
func (r replicated) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return r.run(ctx, func(p goredis.Pipeliner) *goredis.Cmd { return p.EvalSha(ctx, sha1, keys, args...) })
}

// EvalRO implements goredis.Scripter: read-only, nothing to wait for.
func (r replicated) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return r.c.EvalRO(ctx, script, keys, args...)
}

// EvalShaRO implements goredis.Scripter: read-only, nothing to wait for.
func (r replicated) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return r.c.EvalShaRO(ctx, sha1, keys, args...)
}

// ScriptExists implements goredis.Scripter.
func (r replicated) ScriptExists(ctx context.Context, hashes ...string) *goredis.BoolSliceCmd {
	return r.c.ScriptExists(ctx, hashes...)
}

// ScriptLoad implements goredis.Scripter.
func (r replicated) ScriptLoad(ctx context.Context, script string) *goredis.StringCmd {
	return r.c.ScriptLoad(ctx, script)
}

// waitTx waits, on the connection of a WATCH/MULTI transaction that has
// just committed, until its writes reached Options.WaitReplicas replicas
// (nothing to do when that is 0).
func (s *Store) waitTx(ctx context.Context, tx *goredis.Tx) error {
	r, ok := s.w.(replicated)
	if !ok {
		return nil
	}
	return r.check(tx.Do(ctx, r.waitArgs(ctx)...))
}
