package redis

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
)

// waitMirror waits until s's revocation mirror is (or is not) usable.
func waitMirror(t *testing.T, s *Store, usable bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.mirror.usable(time.Now()) != usable {
		if time.Now().After(deadline) {
			t.Fatalf("revocation mirror usable = %v after 10s, want %v", !usable, usable)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// commandCounter counts the commands a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestRevocationMirror: a revocation made by one replica is seen by
// another without a round trip once published; a replica cut off from
// Redis never answers from a stale mirror, and after the cut it sees what
// was revoked meanwhile.
func TestRevocationMirror(t *testing.T) {
	ctx := context.Background()
	addr, prefix := testenv.Redis(t)
	a := New(goredis.NewClient(&goredis.Options{Addr: addr}), Options{Prefix: prefix})
	t.Cleanup(func() { _ = a.Close() })
	proxy := testenv.NewProxy(t, addr)
	bc := goredis.NewClient(&goredis.Options{Addr: proxy.Addr(), MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	count := &commandCounter{}
	bc.AddHook(count)
	logs := &testenv.Buffer{}
	b := New(bc, Options{Prefix: prefix, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	t.Cleanup(func() { _ = b.Close() })
	waitMirror(t, a, true)
	waitMirror(t, b, true)

	exp := time.Now().Add(time.Hour)
	if err := a.RevokeToken(ctx, "at:1", exp); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		before := count.n.Load()
		revoked, err := b.IsTokenRevoked(ctx, "at:0", "at:1")
		if err != nil {
			t.Fatal(err)
		}
		if revoked {
			if count.n.Load() != before {
				t.Fatal("IsTokenRevoked asked Redis although the mirror was usable")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replica b never saw a's revocation")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if revoked, err := b.IsTokenRevoked(ctx, "at:2"); err != nil || revoked {
		t.Fatalf("unrevoked token: %v %v", revoked, err)
	}

	// Cut b off: its mirror must stop answering, and checks fail rather
	// than answer from what b knew before.
	if strings.Contains(logs.String(), "lost") {
		t.Fatalf("mirror reported lost before any cut:\n%s", logs)
	}
	proxy.SetDown(true)
	waitMirror(t, b, false)
	if err := a.RevokeToken(ctx, "at:3", exp); err != nil {
		t.Fatal(err)
	}
	if _, err := b.IsTokenRevoked(ctx, "at:3"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("check while cut off: %v, want ErrUnavailable", err)
	}
	proxy.SetDown(false)
	waitMirror(t, b, true)
	before := count.n.Load()
	if revoked, err := b.IsTokenRevoked(ctx, "at:3"); err != nil || !revoked {
		t.Fatalf("revocation made while b was cut off: revoked=%v err=%v", revoked, err)
	}
	if count.n.Load() != before {
		t.Fatal("IsTokenRevoked asked Redis after the mirror reloaded")
	}
	if n := strings.Count(logs.String(), "revocation mirror lost"); n != 1 {
		t.Errorf("one cut logged %d times as lost, want once:\n%s", n, logs)
	}
}

// TestRevocationMirrorGoesStaleWithoutServer: a mirror that hears nothing
// from the server (not even a pong) stops being used.
func TestRevocationMirrorGoesStaleWithoutServer(t *testing.T) {
	m := newMirror()
	t0 := time.Now()
	m.load(nil, t0)
	m.add("x", 100)
	if revoked, ok := m.check([]string{"x"}, 50, t0.Add(mirrorFresh)); !ok || !revoked {
		t.Fatalf("fresh mirror: revoked=%v ok=%v", revoked, ok)
	}
	if revoked, _ := m.check([]string{"x"}, 100, t0); revoked {
		t.Fatal("revocation still counted at its expiry")
	}
	if _, ok := m.check([]string{"x"}, 50, t0.Add(mirrorFresh+time.Millisecond)); ok {
		t.Fatal("mirror used although the server was last heard from too long ago")
	}
	m.add("y", 200)
	m.purge(100)
	if _, kept := m.ids["x"]; kept {
		t.Error("purge kept an expired entry")
	}
	if _, kept := m.ids["y"]; !kept {
		t.Error("purge dropped a live entry")
	}
	m.reset()
	if _, ok := m.check([]string{"x"}, 50, t0); ok {
		t.Fatal("mirror used after a reset")
	}
}
