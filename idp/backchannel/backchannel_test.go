package backchannel

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/outboxtest"
	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func TestDeliversSignedLogoutTokenExactlyOnce(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	key := ecKey(t, "k1")
	p := newRP(t, clk, key)
	createClient(t, s, "ships", p.uri())
	enqueue(t, s, clk, "sid-1", "ships")
	w := newWorker(t, s, &keyRing{active: key}, clk, nil)

	runOnce(t, w, 1, 0)
	runOnce(t, w, 0, 0)
	clk.Advance(time.Hour) // far past any lease
	runOnce(t, w, 0, 0)

	got := p.deliveries()
	if len(got) != 1 {
		t.Fatalf("RP got %d tokens, want 1", len(got))
	}
	if d := got[0]; d.aud != "ships" || d.sid != "sid-1" || d.sub != "user-1" || d.kid != "k1" {
		t.Errorf("delivery = %+v", d)
	}
	if m := outbox(t, s, 1); m.SentAt.IsZero() || m.Attempts != 0 {
		t.Errorf("message = %+v, want sent at the first attempt", m)
	}
}

func TestRetriesWithBackoffAndSignsWithTheCurrentKey(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	old, cur := ecKey(t, "old"), rsaKey(t, "new")
	p := newRP(t, clk, old, cur)
	p.status = func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}
	createClient(t, s, "ships", p.uri())
	enqueue(t, s, clk, "sid-1", "ships")
	ring := &keyRing{active: old}
	w := newWorker(t, s, ring, clk, nil)

	runOnce(t, w, 0, 1)
	m := outbox(t, s, 1)
	if m.Attempts != 1 || !m.NextAttempt.Equal(clk.Now().Add(10*time.Second)) || !strings.Contains(m.LastError, "500") {
		t.Fatalf("after a 500: %+v, want attempt 1 due in 10s", m)
	}

	clk.Advance(9 * time.Second)
	runOnce(t, w, 0, 0) // not due yet
	if n := len(p.deliveries()); n != 1 {
		t.Fatalf("RP got %d tokens before the retry was due", n)
	}

	clk.Advance(time.Second)
	ring.rotate(cur)
	runOnce(t, w, 1, 0)
	got := p.deliveries()
	if len(got) != 2 {
		t.Fatalf("RP got %d tokens, want 2", len(got))
	}
	if got[1].kid != "new" || got[1].jti == got[0].jti || got[1].iat != got[0].iat+10 {
		t.Errorf("retry = %+v after %+v: want the new key, a fresh jti and iat", got[1], got[0])
	}
	if m := outbox(t, s, 1); m.SentAt.IsZero() {
		t.Errorf("message not marked sent: %+v", m)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	key := ecKey(t, "k1")
	p := newRP(t, clk, key)
	p.status = func(int) int { return http.StatusServiceUnavailable }
	createClient(t, s, "ships", p.uri())
	enqueue(t, s, clk, "sid-1", "ships")
	var logs testenv.Buffer
	w := newWorker(t, s, &keyRing{active: key}, clk, func(c *Config) {
		c.MaxAttempts = 3
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})

	for range 3 {
		runOnce(t, w, 0, 1)
		clk.Advance(time.Hour)
	}
	runOnce(t, w, 0, 0)
	clk.Advance(30 * 24 * time.Hour)
	runOnce(t, w, 0, 0)

	if n := len(p.deliveries()); n != 3 {
		t.Errorf("RP got %d tokens, want 3", n)
	}
	m := outbox(t, s, 1)
	if m.Attempts != 3 || !m.NextAttempt.IsZero() || !m.SentAt.IsZero() || !strings.Contains(m.LastError, "503") {
		t.Errorf("message = %+v, want given up after 3 attempts", m)
	}
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "given up") ||
		!strings.Contains(out, "client_id=ships") || !strings.Contains(out, "attempts=3") {
		t.Errorf("log = %q, want a warning with client_id and attempts", out)
	}
}

func TestEnqueueOnlyForClientsWithABackchannelURI(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	ctx := context.Background()
	createClient(t, s, "ships", "https://ships.example/bcl")
	createClient(t, s, "pass", "")
	sess := store.Session{ID: "sid-9", UserID: "user-9", Clients: []string{"ships", "pass", "deleted", "ships"}}

	n, err := Enqueue(ctx, s, s, issuer, sess, clk.Now())
	if err != nil || n != 1 {
		t.Fatalf("Enqueue = %d, %v; want 1", n, err)
	}
	msgs, err := s.ClaimOutbox(ctx, Kind, clk.Now(), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages queued, want 1", len(msgs))
	}
	var p Payload
	if err := json.Unmarshal(msgs[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	want := Payload{ClientID: "ships", URI: "https://ships.example/bcl", SID: "sid-9", Sub: "user-9", Issuer: issuer, IssuedAt: clk.Now()}
	if p != want {
		t.Errorf("payload = %+v, want %+v", p, want)
	}
}

func TestEnqueueReportsStoreErrors(t *testing.T) {
	boom := errors.New("boom")
	get := clientFunc(func(context.Context, string) (store.Client, error) { return store.Client{}, boom })
	_, err := Enqueue(context.Background(), nil, get, issuer, store.Session{ID: "s", Clients: []string{"c"}}, time.Now())
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want it to wrap %v", err, boom)
	}
}

type clientFunc func(context.Context, string) (store.Client, error)

func (f clientFunc) GetClient(ctx context.Context, id string) (store.Client, error) {
	return f(ctx, id)
}

func TestDoesNotFollowRedirects(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	key := ecKey(t, "k1")
	var followed sync.Mutex
	hits := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/bcl", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		followed.Lock()
		hits++
		followed.Unlock()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	createClient(t, s, "ships", srv.URL+"/bcl")
	enqueue(t, s, clk, "sid-1", "ships")
	w := newWorker(t, s, &keyRing{active: key}, clk, nil)

	runOnce(t, w, 0, 1)
	followed.Lock()
	defer followed.Unlock()
	if hits != 0 {
		t.Errorf("the redirect was followed %d times", hits)
	}
	if m := outbox(t, s, 1); !strings.Contains(m.LastError, "307") || !strings.Contains(m.LastError, "not followed") {
		t.Errorf("last error = %q", m.LastError)
	}
}

func TestTimeoutAndUnreachableRPAreFailures(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	key := ecKey(t, "k1")
	p := newRP(t, clk, key)
	p.hold = func(r *http.Request) { <-r.Context().Done() } // never answers
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	createClient(t, s, "slow", p.uri())
	createClient(t, s, "gone", deadURL+"/bcl")
	enqueue(t, s, clk, "sid-1", "slow", "gone")
	w := newWorker(t, s, &keyRing{active: key}, clk, func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
	})

	runOnce(t, w, 0, 2)
	for id := int64(1); id <= 2; id++ {
		if m := outbox(t, s, id); m.Attempts != 1 || m.LastError == "" || m.NextAttempt.IsZero() {
			t.Errorf("message %d = %+v, want a scheduled retry", id, m)
		}
	}
}

func TestNoSigningKeyUsesNoAttempt(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	createClient(t, s, "ships", "https://ships.example/bcl")
	enqueue(t, s, clk, "sid-1", "ships")
	noKey := errors.New("no active key")
	w := newWorker(t, s, KeySourceFunc(func() (SigningKey, error) { return nil, noKey }), clk, nil)

	if _, _, err := w.RunOnce(context.Background()); !errors.Is(err, noKey) {
		t.Fatalf("RunOnce err = %v, want %v", err, noKey)
	}
	if m := outbox(t, s, 1); m.Attempts != 0 || !m.SentAt.IsZero() {
		t.Errorf("message = %+v, want untouched", m)
	}
}

func TestLeaseKeepsTwoWorkersFromSendingTheSameMessage(t *testing.T) {
	const total = 20
	clk := newClock()
	path := filepath.Join(t.TempDir(), "hubid.db")
	s1 := storetest.OpenSQLiteAt(t, path, clk.Now)
	s2 := storetest.OpenSQLiteAt(t, path, clk.Now) // a second replica on the same database
	key := ecKey(t, "k1")
	p := newRP(t, clk, key)
	// Hold every request until all messages are in flight, so the two
	// workers overlap for as long as possible.
	var once sync.Once
	allIn := make(chan struct{})
	p.hold = func(r *http.Request) {
		if len(p.deliveries()) >= total {
			once.Do(func() { close(allIn) })
		}
		select {
		case <-allIn:
		case <-r.Context().Done():
		}
	}
	createClient(t, s1, "ships", p.uri())
	for i := range total {
		enqueue(t, s1, clk, fmt.Sprintf("sid-%02d", i), "ships")
	}
	workers := []*Worker{
		newWorker(t, s1, &keyRing{active: key}, clk, nil),
		newWorker(t, s2, &keyRing{active: key}, clk, nil),
	}

	runBoth := func() int { return outboxtest.RunTogether(t, workers) }
	if sent := runBoth(); sent != total {
		t.Errorf("sent %d, want %d", sent, total)
	}
	clk.Advance(time.Hour)
	if sent := runBoth(); sent != 0 {
		t.Errorf("second round sent %d, want 0", sent)
	}

	count := map[string]int{}
	for _, d := range p.deliveries() {
		count[d.sid]++
	}
	for i := range total {
		if sid := fmt.Sprintf("sid-%02d", i); count[sid] != 1 {
			t.Errorf("%s delivered %d times, want once", sid, count[sid])
		}
	}
	if n := len(p.deliveries()); n != total {
		t.Errorf("RP got %d tokens, want %d", n, total)
	}
}

func TestRunDeliversOnEachTickUntilCanceled(t *testing.T) {
	clk := newClock()
	s := storetest.OpenSQLite(t, clk.Now)
	key := ecKey(t, "k1")
	p := newRP(t, clk, key)
	createClient(t, s, "ships", p.uri())
	enqueue(t, s, clk, "sid-1", "ships")
	w := newWorker(t, s, &keyRing{active: key}, clk, nil)

	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, tick)
	}()
	tick <- clk.Now()
	tick <- clk.Now() // accepted only once the first run has finished
	if n := len(p.deliveries()); n != 1 {
		t.Errorf("RP got %d tokens after the first tick, want 1", n)
	}
	cancel()
	<-done
}

func TestExponentialBackoff(t *testing.T) {
	zero := ExponentialBackoff(5*time.Second, time.Hour, bytes.NewReader(make([]byte, 1024)))
	for attempt, want := range map[int]time.Duration{
		1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second, 4: 40 * time.Second,
		10: 2560 * time.Second, 11: time.Hour, 1000: time.Hour,
	} {
		if got := zero(attempt); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
	}
	jittered := ExponentialBackoff(5*time.Second, time.Hour, rand.Reader)
	seen := map[time.Duration]bool{}
	for range 50 {
		d := jittered(3)
		if d <= 16*time.Second || d > 20*time.Second {
			t.Fatalf("attempt 3: %v, want within (16s, 20s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Errorf("no jitter: %v", seen)
	}
	if d := jittered(50); d <= 48*time.Minute || d > time.Hour {
		t.Errorf("attempt 50: %v, want within (48m, 1h]", d)
	}
}

func TestNewWorkerReportsEveryProblem(t *testing.T) {
	_, err := NewWorker(nil, nil, Config{Lease: time.Second, MaxAttempts: -1})
	if err == nil {
		t.Fatal("NewWorker accepted an empty config")
	}
	for _, want := range []string{"store", "key source", "issuer", "lease", "max attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestKeysDoesNotWrapATypedNil(t *testing.T) {
	boom := errors.New("no key")
	k, err := Keys(func() (*staticKey, error) { return nil, boom }).Signing()
	if k != nil || !errors.Is(err, boom) {
		t.Errorf("Signing = %v, %v; want nil, %v", k, err, boom)
	}
}
