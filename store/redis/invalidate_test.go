package redis

import (
	"context"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/internal/testenv"
)

// seen collects announcements.
type seen struct {
	mu  sync.Mutex
	got []string
}

func (s *seen) add(kind, id string) { s.mu.Lock(); s.got = append(s.got, kind+"/"+id); s.mu.Unlock() }

func (s *seen) wait(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		for _, g := range s.got {
			if g == want {
				s.mu.Unlock()
				return
			}
		}
		got := append([]string(nil), s.got...)
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("announcement %q never arrived; got %q", want, got)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestInvalidations: an announcement reaches the announcing Store at once
// and the others through Redis; a Store that resubscribes after a cut is
// told to forget everything, and is not fresh while cut off.
func TestInvalidations(t *testing.T) {
	ctx := context.Background()
	addr, prefix := testenv.Redis(t)
	a := New(goredis.NewClient(&goredis.Options{Addr: addr}), Options{Prefix: prefix})
	t.Cleanup(func() { _ = a.Close() })
	proxy := testenv.NewProxy(t, addr)
	b := New(goredis.NewClient(&goredis.Options{Addr: proxy.Addr(), MaxRetries: -1, DialTimeout: time.Second}), Options{Prefix: prefix})
	t.Cleanup(func() { _ = b.Close() })
	var sa, sb seen
	a.OnInvalidate(sa.add)
	b.OnInvalidate(sb.add)
	waitMirror(t, a, true)
	waitMirror(t, b, true)
	if !b.InvalidationsFresh() {
		t.Fatal("b not fresh with a healthy subscription")
	}

	if err := a.Invalidate(ctx, "user", "u1"); err != nil {
		t.Fatal(err)
	}
	sa.mu.Lock()
	local := len(sa.got) > 0 && sa.got[len(sa.got)-1] == "user/u1"
	sa.mu.Unlock()
	if !local {
		t.Fatal("the announcing Store's own callback was not called at once")
	}
	sb.wait(t, "user/u1")

	proxy.SetDown(true)
	waitMirror(t, b, false)
	if b.InvalidationsFresh() {
		t.Fatal("b fresh while cut off")
	}
	sb.mu.Lock()
	sb.got = nil
	sb.mu.Unlock()
	if err := a.Invalidate(ctx, "user", "u2"); err != nil { // b misses this one
		t.Fatal(err)
	}
	proxy.SetDown(false)
	sb.wait(t, "/") // forget everything after resubscribing
	waitMirror(t, b, true)
}
