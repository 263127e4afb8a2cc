package throttle

import (
	"context"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customerhub/hubid/store/memory"
	"github.com/customerhub/hubid/store/storetest"
)

func newLimiter() (*Limiter, *storetest.Clock) {
	clk := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	return &Limiter{
		Counters: memory.New(memory.Options{Now: clk.Now}),
		Account:  Policy{DelayAfter: 5, LockAfter: 20, Window: 15 * time.Minute},
		IP:       Policy{DelayAfter: 25, LockAfter: 100, Window: 15 * time.Minute},
		Now:      clk.Now,
	}, clk
}

func TestDelaysThenLockThatLiftsByItself(t *testing.T) {
	ctx := context.Background()
	l, clk := newLimiter()
	for i := 1; i <= 4; i++ {
		if err := l.Fail(ctx, "a@example.com", "198.51.100.1"); err != nil {
			t.Fatal(err)
		}
		if d, _ := l.Check(ctx, "a@example.com", "198.51.100.1"); !d.Allowed {
			t.Fatalf("refused after %d failures", i)
		}
	}
	l.Fail(ctx, "a@example.com", "198.51.100.1") // 5th
	d, _ := l.Check(ctx, "a@example.com", "198.51.100.1")
	if d.Allowed || d.Locked || !d.RetryAt.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("after 5 failures want a 1 s delay, got %+v", d)
	}
	clk.Advance(time.Second)
	if d, _ := l.Check(ctx, "a@example.com", "198.51.100.1"); !d.Allowed {
		t.Fatal("still refused after the delay")
	}
	l.Fail(ctx, "a@example.com", "198.51.100.1") // 6th: 2 s
	if d, _ := l.Check(ctx, "a@example.com", "198.51.100.1"); d.RetryAt.Sub(clk.Now()) != 2*time.Second {
		t.Fatalf("delay does not increase: %+v", d)
	}
	for range 14 {
		l.Fail(ctx, "a@example.com", "198.51.100.1")
	}
	d, _ = l.Check(ctx, "a@example.com", "198.51.100.1")
	if !d.Locked || d.Allowed {
		t.Fatalf("20 failures must lock: %+v", d)
	}
	// Other accounts from the same IP are not locked (IP policy is looser).
	if d, _ := l.Check(ctx, "b@example.com", "198.51.100.1"); !d.Allowed {
		t.Fatalf("other account refused: %+v", d)
	}
	clk.Advance(15 * time.Minute)
	if d, _ := l.Check(ctx, "a@example.com", "198.51.100.1"); !d.Allowed {
		t.Fatalf("lock did not lift after the window: %+v", d)
	}
}

func TestSuccessResetsTheAccount(t *testing.T) {
	ctx := context.Background()
	l, _ := newLimiter()
	for range 7 {
		l.Fail(ctx, "a@example.com", "198.51.100.1")
	}
	if err := l.Succeed(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.Check(ctx, "a@example.com", "198.51.100.1"); !d.Allowed {
		t.Fatalf("refused after success: %+v", d)
	}
}

func TestIPLockCoversEveryAccount(t *testing.T) {
	ctx := context.Background()
	l, _ := newLimiter()
	for i := range 100 {
		l.Fail(ctx, string(rune('a'+i%26))+"@example.com", "203.0.113.9")
	}
	if d, _ := l.Check(ctx, "fresh@example.com", "203.0.113.9"); !d.Locked {
		t.Fatalf("spraying from one IP must lock the IP: %+v", d)
	}
}

func TestClientIP(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ remote, xff, want string }{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "1.2.3.4", "203.0.113.5"},             // spoofed, untrusted peer
		{"10.1.1.1:4000", "198.51.100.3", "198.51.100.3"},          // via trusted proxy
		{"10.1.1.1:4000", "6.6.6.6, 198.51.100.3", "198.51.100.3"}, // leftmost is client-controlled
		{"10.1.1.1:4000", "198.51.100.3, 192.0.2.7", "198.51.100.3"},
		{"10.1.1.1:4000", "garbage", "10.1.1.1"},
		{"[::ffff:203.0.113.5]:4000", "", "203.0.113.5"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := ClientIP(r, proxies); got != c.want {
			t.Errorf("%s xff=%q: got %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	if _, err := ParseProxies([]string{"nope"}); err == nil {
		t.Error("bad proxy accepted")
	}
}

func TestConcurrentAttemptsNeverExceedTheLock(t *testing.T) {
	ctx := context.Background()
	l, _ := newLimiter()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := l.Attempt(ctx, "a@example.com", "198.51.100.1")
			if err != nil {
				t.Error(err)
			}
			if d.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 20 {
		t.Fatalf("%d concurrent attempts got through, want exactly lock_after (20)", n)
	}
	if d, _ := l.Check(ctx, "a@example.com", "198.51.100.1"); !d.Locked {
		t.Fatalf("the account must be locked after the burst: %+v", d)
	}
}

func TestAttemptThenFailedDelaysAndSuccessResets(t *testing.T) {
	ctx := context.Background()
	l, clk := newLimiter()
	for i := range 5 {
		if d, _ := l.Attempt(ctx, "a@example.com", "198.51.100.1"); !d.Allowed {
			t.Fatalf("attempt %d refused: %+v", i+1, d)
		}
		if err := l.Failed(ctx, "a@example.com", "198.51.100.1"); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := l.Attempt(ctx, "a@example.com", "198.51.100.1")
	if d.Allowed || !d.RetryAt.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("after 5 failures want a 1 s delay: %+v", d)
	}
	clk.Advance(time.Second)
	if d, _ := l.Attempt(ctx, "a@example.com", "198.51.100.1"); !d.Allowed {
		t.Fatalf("refused after the delay: %+v", d)
	}
	if err := l.Succeed(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := l.Counters.GetCounter(ctx, "throttle:acct:a@example.com"); n != 0 {
		t.Fatalf("success left %d counted attempts", n)
	}
}
