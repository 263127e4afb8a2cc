package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/outboxtest"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

var (
	_ Store = (*sqlite.Store)(nil)
	_ Store = store.Durable(nil)
)

const kind = "test_kind"

func newClock() *storetest.Clock {
	return storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}

func enqueue(t *testing.T, s *sqlite.Store, payload string) int64 {
	t.Helper()
	id, err := s.EnqueueOutbox(context.Background(), store.OutboxMessage{Kind: kind, Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newWorker(t *testing.T, s Store, clk *storetest.Clock, h Handler, edit func(*Config)) *Worker {
	t.Helper()
	cfg := Config{
		Now:     clk.Now,
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * 10 * time.Second },
	}
	if edit != nil {
		edit(&cfg)
	}
	w, err := NewWorker(s, kind, h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func runOnce(t *testing.T, w *Worker, wantSent, wantFailed int) {
	t.Helper()
	outboxtest.RunOnce(t, w, wantSent, wantFailed)
}

func get(t *testing.T, s *sqlite.Store, id int64) store.OutboxMessage {
	t.Helper()
	return outboxtest.Get(t, s, id)
}

// counter is a handler that counts deliveries per payload.
type counter struct {
	mu  sync.Mutex
	got map[string]int
	err func(m store.OutboxMessage) error
}

func (c *counter) handle(_ context.Context, m store.OutboxMessage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got = map[string]int{}
	}
	c.got[string(m.Payload)]++
	if c.err != nil {
		return c.err(m)
	}
	return nil
}

func (c *counter) count(p string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[p]
}

func TestDeliversOnceAndMarksSent(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	id := enqueue(t, s, "a")
	other, err := s.EnqueueOutbox(context.Background(), store.OutboxMessage{Kind: "other", Payload: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{}
	w := newWorker(t, s, clk, c.handle, nil)

	runOnce(t, w, 1, 0)
	runOnce(t, w, 0, 0)
	clk.Advance(time.Hour) // far past any lease
	runOnce(t, w, 0, 0)

	if n := c.count("a"); n != 1 {
		t.Errorf("delivered %d times, want 1", n)
	}
	if n := c.count("x"); n != 0 {
		t.Errorf("a message of another kind was delivered %d times", n)
	}
	if m := get(t, s, id); m.SentAt.IsZero() || m.Attempts != 0 {
		t.Errorf("message = %+v, want sent at the first attempt", m)
	}
	if m := get(t, s, other); !m.SentAt.IsZero() {
		t.Errorf("other kind = %+v, want untouched", m)
	}
}

func TestRetriesWithBackoffThenGivesUp(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	id := enqueue(t, s, "a")
	c := &counter{err: func(store.OutboxMessage) error { return errors.New("421 try later") }}
	var logs testenv.Buffer
	w := newWorker(t, s, clk, c.handle, func(cfg *Config) {
		cfg.MaxAttempts = 3
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		cfg.Attrs = func(m store.OutboxMessage) []slog.Attr {
			return []slog.Attr{slog.String("recipient", string(m.Payload))}
		}
	})

	runOnce(t, w, 0, 1)
	m := get(t, s, id)
	if m.Attempts != 1 || !m.NextAttempt.Equal(clk.Now().Add(10*time.Second)) || m.LastError != "421 try later" {
		t.Fatalf("after one failure: %+v, want attempt 1 due in 10s", m)
	}
	clk.Advance(9 * time.Second)
	runOnce(t, w, 0, 0) // not due yet
	clk.Advance(time.Second)
	runOnce(t, w, 0, 1)
	if m := get(t, s, id); !m.NextAttempt.Equal(clk.Now().Add(20 * time.Second)) {
		t.Fatalf("after two failures: %+v, want due in 20s", m)
	}
	clk.Advance(20 * time.Second)
	runOnce(t, w, 0, 1)
	clk.Advance(30 * 24 * time.Hour)
	runOnce(t, w, 0, 0)

	if n := c.count("a"); n != 3 {
		t.Errorf("delivered %d times, want 3", n)
	}
	if m := get(t, s, id); m.Attempts != 3 || !m.NextAttempt.IsZero() || !m.SentAt.IsZero() {
		t.Errorf("message = %+v, want given up after 3 attempts", m)
	}
	out := logs.String()
	for _, want := range []string{"will retry", "level=WARN", "given up", "attempts=3", "recipient=a", "kind=" + kind} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestPermanentFailureGivesUpAtOnce(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	id := enqueue(t, s, "a")
	c := &counter{err: func(store.OutboxMessage) error {
		return fmt.Errorf("rcpt: %w", Permanent(errors.New("550 no such user")))
	}}
	w := newWorker(t, s, clk, c.handle, nil)

	runOnce(t, w, 0, 1)
	clk.Advance(24 * time.Hour)
	runOnce(t, w, 0, 0)
	m := get(t, s, id)
	if m.Attempts != 1 || !m.NextAttempt.IsZero() || m.LastError != "rcpt: 550 no such user" {
		t.Errorf("message = %+v, want given up at the first attempt", m)
	}
}

func TestNotAttemptedUsesNoAttempt(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	id := enqueue(t, s, "a")
	noKey := errors.New("no key yet")
	fail := true
	c := &counter{err: func(store.OutboxMessage) error {
		if fail {
			return NotAttempted(noKey)
		}
		return nil
	}}
	w := newWorker(t, s, clk, c.handle, func(cfg *Config) { cfg.Lease = time.Minute })

	sent, failed, err := w.RunOnce(context.Background())
	if !errors.Is(err, noKey) || !errors.Is(err, ErrNotAttempted) || sent != 0 || failed != 0 {
		t.Fatalf("RunOnce = %d, %d, %v; want 0, 0 and the handler's error", sent, failed, err)
	}
	if m := get(t, s, id); m.Attempts != 0 || !m.SentAt.IsZero() {
		t.Fatalf("message = %+v, want untouched", m)
	}
	fail = false
	runOnce(t, w, 0, 0) // still leased
	clk.Advance(time.Minute)
	runOnce(t, w, 1, 0)
}

func TestCanceledRunUsesNoAttempt(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	id := enqueue(t, s, "a")
	started := make(chan struct{})
	w := newWorker(t, s, clk, func(ctx context.Context, _ store.OutboxMessage) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	sent, failed, err := w.RunOnce(ctx)
	if sent != 0 || failed != 0 || err != nil {
		t.Fatalf("RunOnce = %d, %d, %v; want nothing counted", sent, failed, err)
	}
	if m := get(t, s, id); m.Attempts != 0 || !m.SentAt.IsZero() {
		t.Errorf("message = %+v, want untouched", m)
	}
}

func TestTimeoutIsAFailedAttempt(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	id := enqueue(t, s, "a")
	w := newWorker(t, s, clk, func(ctx context.Context, _ store.OutboxMessage) error {
		<-ctx.Done() // never answers
		return fmt.Errorf("send: %w", ctx.Err())
	}, func(cfg *Config) { cfg.Timeout = 20 * time.Millisecond })

	runOnce(t, w, 0, 1)
	if m := get(t, s, id); m.Attempts != 1 || m.NextAttempt.IsZero() || !strings.Contains(m.LastError, "deadline") {
		t.Errorf("message = %+v, want a scheduled retry", m)
	}
}

// shortLease is a store whose clock jumps right after the first claim, as
// if the worker had stalled, leaving less than one timeout of lease.
type shortLease struct {
	*sqlite.Store
	clk  *storetest.Clock
	jump time.Duration
	once *sync.Once
}

func (s shortLease) ClaimOutbox(ctx context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error) {
	msgs, err := s.Store.ClaimOutbox(ctx, kind, now, lease, limit)
	s.once.Do(func() { s.clk.Advance(s.jump) })
	return msgs, err
}

func TestLeaseTooShortLeavesTheMessage(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	id := enqueue(t, s, "a")
	c := &counter{}
	w := newWorker(t, shortLease{Store: s, clk: clk, jump: 25 * time.Second, once: &sync.Once{}}, clk, c.handle, func(cfg *Config) {
		cfg.Timeout, cfg.Lease = 10*time.Second, 30*time.Second
	})

	runOnce(t, w, 0, 0)
	if n := c.count("a"); n != 0 {
		t.Errorf("handler called %d times with 5s of lease left, want 0", n)
	}
	if m := get(t, s, id); m.Attempts != 0 || !m.SentAt.IsZero() {
		t.Errorf("message = %+v, want untouched", m)
	}
	clk.Advance(5 * time.Second) // the lease has ended
	runOnce(t, w, 1, 0)
}

func TestLeaseKeepsTwoWorkersFromDeliveringTheSameMessage(t *testing.T) {
	const total = 30
	clk := newClock()
	path := filepath.Join(t.TempDir(), "hubid.db")
	s1 := storetest.OpenSQLiteAt(t, path, clk.Now)
	s2 := storetest.OpenSQLiteAt(t, path, clk.Now) // a second replica on the same database
	for i := range total {
		enqueue(t, s1, fmt.Sprintf("m%02d", i))
	}
	c := &counter{}
	var inFlight atomic.Int32
	allIn := make(chan struct{})
	var once sync.Once
	hold := func(ctx context.Context, m store.OutboxMessage) error {
		// Hold until both workers have their whole batch in flight.
		if inFlight.Add(1) == total {
			once.Do(func() { close(allIn) })
		}
		select {
		case <-allIn:
		case <-ctx.Done():
			return ctx.Err()
		}
		return c.handle(ctx, m)
	}
	edit := func(cfg *Config) { cfg.BatchSize = 15 }
	workers := []*Worker{newWorker(t, s1, clk, hold, edit), newWorker(t, s2, clk, hold, edit)}

	runBoth := func() int { return outboxtest.RunTogether(t, workers) }
	if sent := runBoth(); sent != total {
		t.Errorf("sent %d, want %d", sent, total)
	}
	clk.Advance(time.Hour)
	if sent := runBoth(); sent != 0 {
		t.Errorf("second round sent %d, want 0", sent)
	}
	for i := range total {
		if p := fmt.Sprintf("m%02d", i); c.count(p) != 1 {
			t.Errorf("%s delivered %d times, want once", p, c.count(p))
		}
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	for i := range 6 {
		enqueue(t, s, fmt.Sprint(i))
	}
	var cur, peak atomic.Int32
	started := make(chan struct{}, 6)
	gate := make(chan struct{})
	w := newWorker(t, s, clk, func(ctx context.Context, _ store.OutboxMessage) error {
		n := cur.Add(1)
		defer cur.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		started <- struct{}{}
		<-gate
		return nil
	}, func(cfg *Config) { cfg.Concurrency = 2 })
	go func() {
		<-started
		<-started
		close(gate)
	}()
	runOnce(t, w, 6, 0)
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
}

// failingMarks is a store that cannot record outcomes.
type failingMarks struct{ *sqlite.Store }

var errDB = errors.New("database gone")

func (failingMarks) MarkOutboxSent(context.Context, int64, time.Time) error { return errDB }
func (failingMarks) MarkOutboxFailed(context.Context, int64, string, time.Time) error {
	return errDB
}

func TestStoreFailuresAreReported(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	enqueue(t, s, "ok")
	enqueue(t, s, "bad")
	c := &counter{err: func(m store.OutboxMessage) error {
		if string(m.Payload) == "bad" {
			return errors.New("refused")
		}
		return nil
	}}
	w := newWorker(t, failingMarks{s}, clk, c.handle, nil)
	sent, failed, err := w.RunOnce(context.Background())
	if sent != 1 || failed != 1 || !errors.Is(err, errDB) {
		t.Errorf("RunOnce = %d, %d, %v; want 1, 1 and %v", sent, failed, err, errDB)
	}
}

func TestRunDeliversOnEachTickUntilCanceled(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	enqueue(t, s, "a")
	c := &counter{}
	w := newWorker(t, s, clk, c.handle, nil)

	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, tick)
	}()
	tick <- clk.Now()
	tick <- clk.Now() // accepted only once the first run has finished
	if n := c.count("a"); n != 1 {
		t.Errorf("delivered %d times after the first tick, want 1", n)
	}
	cancel()
	<-done
}

func TestNewWorkerReportsEveryProblem(t *testing.T) {
	_, err := NewWorker(nil, "", nil, Config{Timeout: time.Minute, Lease: time.Minute, MaxAttempts: -1, Concurrency: -2})
	if err == nil {
		t.Fatal("NewWorker accepted an empty config")
	}
	for _, want := range []string{"store", "kind", "handler", "lease", "max attempts", "concurrency"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	// The default lease covers a batch that runs in several rounds.
	w, err := NewWorker(storetest.OpenSQLite(t, newClock().Now), kind, (&counter{}).handle, Config{Timeout: time.Second, BatchSize: 10, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if w.cfg.Lease != 5*time.Second || w.Kind() != kind {
		t.Errorf("lease = %v, want 5s (4 rounds + 1)", w.cfg.Lease)
	}
}

func TestMarkers(t *testing.T) {
	base := errors.New("550 no such user")
	p := Permanent(base)
	if !errors.Is(p, ErrPermanent) || !errors.Is(p, base) || p.Error() != base.Error() || errors.Is(p, ErrNotAttempted) {
		t.Errorf("Permanent(%v) = %v", base, p)
	}
	n := NotAttempted(base)
	if !errors.Is(n, ErrNotAttempted) || !errors.Is(n, base) || errors.Is(n, ErrPermanent) {
		t.Errorf("NotAttempted(%v) = %v", base, n)
	}
	if Permanent(nil) != nil || NotAttempted(nil) != nil {
		t.Error("a nil error was wrapped")
	}
}

func TestExponentialBackoff(t *testing.T) {
	zero := ExponentialBackoff(5*time.Second, time.Hour, bytes.NewReader(make([]byte, 1024)))
	for attempt, want := range map[int]time.Duration{
		1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second, 11: time.Hour, 1000: time.Hour,
	} {
		if got := zero(attempt); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
	}
	ones := ExponentialBackoff(5*time.Second, time.Hour, bytes.NewReader(bytes.Repeat([]byte{0xff}, 64)))
	if d := ones(3); d <= 16*time.Second || d >= 20*time.Second {
		t.Errorf("attempt 3 with jitter: %v, want within (16s, 20s)", d)
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("日本語", 4); got != "日…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("short", 10); got != "short" {
		t.Errorf("Truncate = %q", got)
	}
}
