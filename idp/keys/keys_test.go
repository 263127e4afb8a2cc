package keys

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/seal"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// auditLog records appended audit events.
type auditLog struct {
	mu     sync.Mutex
	events []store.AuditEvent
}

func (a *auditLog) AppendAudit(_ context.Context, e store.AuditEvent) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return int64(len(a.events)), nil
}

// take returns the kinds appended since the last take.
func (a *auditLog) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var kinds []string
	for _, e := range a.events {
		kinds = append(kinds, e.Kind)
	}
	a.events = nil
	return kinds
}

func newTestManager(t *testing.T, algs ...string) (*Manager, *storetest.Clock, *storetest.MemKeys) {
	t.Helper()
	m, clk, st, _ := newAuditedManager(t, algs...)
	return m, clk, st
}

func newAuditedManager(t *testing.T, algs ...string) (*Manager, *storetest.Clock, *storetest.MemKeys, *auditLog) {
	t.Helper()
	var k [32]byte
	_, _ = rand.Read(k[:])
	kr, err := seal.NewKeyring(seal.NewKEK(k))
	if err != nil {
		t.Fatal(err)
	}
	clk := storetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := storetest.NewMemKeys()
	audit := &auditLog{}
	m := New(Config{
		Algorithms: algs, RSABits: 2048, Now: clk.Now, Rand: rand.Reader,
		Policy:   Policy{RotationPeriod: 30 * 24 * time.Hour, PublishBefore: 24 * time.Hour, RetireFor: 2 * time.Hour},
		OnChange: AuditTo(audit, nil),
	}, st, kr)
	return m, clk, st, audit
}

// states returns kid → state of the stored keys.
func states(t *testing.T, m *Manager) map[string]store.KeyState {
	t.Helper()
	keys, err := m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.KeyState{}
	for _, k := range keys {
		out[k.ID] = k.State
	}
	return out
}

func jwksKids(t *testing.T, m *Manager) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid, Alg, Kty, Use string
		} `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.Kid == "" || k.Use != "sig" || k.Alg == "" {
			t.Fatalf("incomplete JWK: %+v", k)
		}
		kids = append(kids, k.Kid)
	}
	slices.Sort(kids)
	return kids
}

func sorted(s ...string) []string { slices.Sort(s); return s }

func TestLifecycleWalk(t *testing.T) {
	ctx := context.Background()
	m, clk, _, audit := newAuditedManager(t, "RS256")
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if got := audit.take(); !slices.Equal(got, []string{"key.active", "key.next"}) {
		t.Fatalf("audit after first Ensure: %v", got)
	}
	first, err := m.Signing()
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := m.List(ctx)
	if len(keys) != 2 {
		t.Fatalf("want active + next, got %d keys", len(keys))
	}
	var next string
	for _, k := range keys {
		if k.State == store.KeyNext {
			next = k.ID
		}
	}
	// Step 1: active and next are both published; active signs.
	if got, want := jwksKids(t, m), sorted(first.ID(), next); !slices.Equal(got, want) {
		t.Fatalf("JWKS %v, want %v", got, want)
	}
	// Ensure again changes nothing.
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if k, _ := m.List(ctx); len(k) != 2 {
		t.Fatalf("second Ensure added keys: %d", len(k))
	}
	if got := audit.take(); len(got) != 0 {
		t.Fatalf("audit events without a change: %v", got)
	}

	// Step 2: rotating before the next key was published long enough is refused.
	clk.Advance(time.Hour)
	if _, err := m.Rotate(ctx, false); !errors.Is(err, ErrTooEarly) {
		t.Fatalf("want ErrTooEarly, got %v", err)
	}
	if st := states(t, m); st[first.ID()] != store.KeyActive || st[next] != store.KeyNext || len(st) != 2 {
		t.Fatalf("a refused rotation changed keys: %v", st)
	}
	// Step 3: a scheduled tick before the rotation period does nothing.
	clk.Advance(48 * time.Hour)
	if evs, err := m.Tick(ctx); err != nil || len(evs) != 0 {
		t.Fatalf("tick before due: %v %v", evs, err)
	}
	// Step 4: at the rotation time, next becomes active, old active retired, new next made.
	clk.Advance(30 * 24 * time.Hour)
	if _, err := m.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	cur, _ := m.Signing()
	if cur.ID() != next {
		t.Fatalf("signing with %s, want promoted %s", cur.ID(), next)
	}
	kids := jwksKids(t, m)
	if len(kids) != 3 || !slices.Contains(kids, first.ID()) || !slices.Contains(kids, next) {
		t.Fatalf("after rotation JWKS must hold retired, active and new next: %v", kids)
	}
	if st := states(t, m); st[first.ID()] != store.KeyRetired || st[next] != store.KeyActive {
		t.Fatalf("after rotation: %v", st)
	}
	if got := audit.take(); !slices.Equal(got, []string{"key.retired", "key.active", "key.next"}) {
		t.Fatalf("audit after rotation: %v", got)
	}
	// Step 5: the retired key stays until its tokens have expired, then goes.
	clk.Advance(time.Hour)
	m.Tick(ctx)
	if !slices.Contains(jwksKids(t, m), first.ID()) {
		t.Fatal("retired key removed before its tokens expired")
	}
	clk.Advance(time.Hour)
	if _, err := m.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if kids := jwksKids(t, m); slices.Contains(kids, first.ID()) || len(kids) != 2 {
		t.Fatalf("retired key still published after RetireFor: %v", kids)
	}
	if got := audit.take(); !slices.Equal(got, []string{"key.removed"}) {
		t.Fatalf("audit after removal: %v", got)
	}
}

func TestRetireNowRemovesAtOnceAndKeepsSigning(t *testing.T) {
	ctx := context.Background()
	m, _, _ := newTestManager(t, "RS256", "ES256")
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	act, _ := m.Signing()
	if _, err := m.RetireNow(ctx, act.ID()); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(jwksKids(t, m), act.ID()) {
		t.Fatal("compromised key still published")
	}
	now, err := m.Signing()
	if err != nil || now.ID() == act.ID() {
		t.Fatalf("no replacement signing key: %v", err)
	}
	if _, err := m.SigningFor("ES256"); err != nil {
		t.Fatal("other algorithms must be untouched")
	}
	if _, err := m.RetireNow(ctx, "no-such-kid"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown kid: %v", err)
	}
}

func TestSealedKeysReloadInAnotherManager(t *testing.T) {
	ctx := context.Background()
	m, _, st := newTestManager(t, "RS256", "EdDSA")
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	// A second replica on the same store and KEK serves the same keys.
	m2 := New(m.cfg, st, m.seal)
	if err := m2.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if string(m.JWKS()) != string(m2.JWKS()) {
		t.Fatal("replicas disagree on JWKS")
	}
	a, _ := m.Signing()
	b, _ := m2.Signing()
	if a.ID() != b.ID() {
		t.Fatal("replicas sign with different keys")
	}
}

func TestKIDsAreHex(t *testing.T) {
	for range 200 {
		kid, err := newKID(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(kid) != 24 || strings.Trim(kid, "0123456789abcdef") != "" {
			t.Fatalf("kid %q is not 24 hex digits", kid)
		}
	}
}
