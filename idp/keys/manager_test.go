package keys

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/customerhub/hubid/seal"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func newKeyring(t testing.TB, old ...seal.KEK) (*seal.Keyring, seal.KEK) {
	t.Helper()
	var k [32]byte
	_, _ = rand.Read(k[:])
	kek := seal.NewKEK(k)
	kr, err := seal.NewKeyring(kek, old...)
	if err != nil {
		t.Fatal(err)
	}
	return kr, kek
}

func TestRSAKeySizeFromConfig(t *testing.T) {
	ctx := context.Background()
	kr, _ := newKeyring(t)
	st := storetest.NewMemKeys()
	m := New(Config{RSABits: 3072}, st, kr)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	k, err := m.Signing()
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Key().(*rsa.PrivateKey).N.BitLen(); got != 3072 {
		t.Fatalf("rsa_bits 3072 generated a %d-bit key", got)
	}
	bad := New(Config{RSABits: 1024}, storetest.NewMemKeys(), kr)
	if err := bad.Ensure(ctx); err == nil || !strings.Contains(err.Error(), "1024") {
		t.Fatalf("1024-bit RSA must be refused, got %v", err)
	}
}

func TestAlgorithmsAndDefaults(t *testing.T) {
	kr, _ := newKeyring(t)
	m := New(Config{Algorithms: []string{"EdDSA"}, SigningAlgorithm: "ES256"}, storetest.NewMemKeys(), kr)
	if got := m.Algorithms(); !slices.Equal(got, []string{"RS256", "EdDSA", "ES256"}) {
		t.Fatalf("algorithms %v: RS256 and the signing algorithm are always kept", got)
	}
	if err := m.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, alg := range m.Algorithms() {
		k, err := m.SigningFor(alg)
		if err != nil || string(k.SignatureAlgorithm()) != alg {
			t.Fatalf("%s: %v", alg, err)
		}
	}
}

func TestForcedRotationIsMarked(t *testing.T) {
	ctx := context.Background()
	m, clk, _ := newTestManager(t, "RS256")
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	evs, err := m.Rotate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var forced []string
	for _, e := range evs {
		if e.Forced {
			forced = append(forced, e.From+">"+e.To)
		}
		if !e.At.Equal(clk.Now()) {
			t.Fatalf("event time %v, want %v", e.At, clk.Now())
		}
	}
	if !slices.Equal(forced, []string{"next>active"}) {
		t.Fatalf("forced events %v", forced)
	}
	// A day later the new next key is ready: an unforced rotation is not marked.
	clk.Advance(24 * time.Hour)
	evs, err = m.Rotate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Forced {
			t.Fatalf("unforced rotation marked forced: %+v", e)
		}
	}
}

func TestTickGivesNewAlgorithmItsKeys(t *testing.T) {
	ctx := context.Background()
	m, _, st := newTestManager(t, "RS256")
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	// A replica started with ES256 added shares the store.
	m2 := New(Config{Algorithms: []string{"RS256", "ES256"}, Now: m.cfg.Now, Policy: m.cfg.Policy}, st, m.seal)
	evs, err := m2.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Algorithm != "ES256" || evs[0].To != "active" || evs[1].To != "next" {
		t.Fatalf("events %+v", evs)
	}
	if _, err := m2.SigningFor("ES256"); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentTicksRotateOnce(t *testing.T) {
	ctx := context.Background()
	m, clk, st := newTestManager(t, "RS256")
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(31 * 24 * time.Hour)
	var wg sync.WaitGroup
	var promoted atomic.Int32
	start := make(chan struct{})
	for range 10 {
		r := New(m.cfg, st, m.seal)
		wg.Go(func() {
			<-start
			evs, err := r.Tick(ctx)
			if err != nil {
				t.Error(err)
			}
			for _, e := range evs {
				if e.To == "active" {
					promoted.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if promoted.Load() != 1 {
		t.Fatalf("%d promotions, want 1", promoted.Load())
	}
	if k, _ := m.List(ctx); len(k) != 3 {
		t.Fatalf("%d keys, want retired + active + next", len(k))
	}
}

func TestResealMovesKeysToTheNewKEK(t *testing.T) {
	ctx := context.Background()
	oldRing, oldKEK := newKeyring(t)
	st := storetest.NewMemKeys()
	cfg := Config{Algorithms: []string{"RS256", "EdDSA"}}
	if err := New(cfg, st, oldRing).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := st.ListSigningKeys(ctx)

	// The new KEK is current, the old one previous.
	newRing, newKEK := newKeyring(t, oldKEK)
	m := New(cfg, st, newRing)
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	jwks := string(m.JWKS())
	n, err := m.Reseal(ctx)
	if err != nil || n != len(before) {
		t.Fatalf("resealed %d of %d: %v", n, len(before), err)
	}
	if n, err := m.Reseal(ctx); err != nil || n != 0 {
		t.Fatalf("second reseal changed %d: %v", n, err)
	}
	// The old KEK can now be dropped.
	onlyNew, err := seal.NewKeyring(newKEK)
	if err != nil {
		t.Fatal(err)
	}
	m3 := New(cfg, st, onlyNew)
	if err := m3.Reload(ctx); err != nil {
		t.Fatalf("keys do not open without the old KEK: %v", err)
	}
	if string(m3.JWKS()) != jwks {
		t.Fatal("reseal changed the published keys")
	}
	// A keyring lacking the KEK of a stored key changes nothing.
	other, _ := newKeyring(t)
	if _, err := New(cfg, st, other).Reseal(ctx); !errors.Is(err, seal.ErrUnknownKEK) {
		t.Fatalf("want ErrUnknownKEK, got %v", err)
	}
	if err := New(cfg, st, onlyNew).Reload(ctx); err != nil {
		t.Fatalf("failed reseal damaged keys: %v", err)
	}
}

// countingSealer counts Open calls.
type countingSealer struct {
	Sealer
	opens atomic.Int32
}

func (c *countingSealer) Open(blob, aad []byte) ([]byte, error) {
	c.opens.Add(1)
	return c.Sealer.Open(blob, aad)
}

func TestReloadUnsealsOnlyNewKeys(t *testing.T) {
	ctx := context.Background()
	kr, _ := newKeyring(t)
	cs := &countingSealer{Sealer: kr}
	clk := storetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := New(Config{Now: clk.Now, Policy: Policy{RotationPeriod: time.Hour, PublishBefore: time.Minute, RetireFor: time.Minute}},
		storetest.NewMemKeys(), cs)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if n := cs.opens.Load(); n != 2 {
		t.Fatalf("%d opens for 2 keys", n)
	}
	snap := m.snap.Load()
	for range 3 {
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if m.snap.Load() != snap || cs.opens.Load() != 2 {
		t.Fatal("an unchanged key set rebuilt the snapshot")
	}
	clk.Advance(2 * time.Hour)
	if _, err := m.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := cs.opens.Load(); n != 3 {
		t.Fatalf("rotation reopened known keys: %d opens, want 3", n)
	}
}

// countingStore counts lock-taking updates.
type countingStore struct {
	*storetest.MemKeys
	updates atomic.Int32
}

func (c *countingStore) UpdateSigningKeys(ctx context.Context, fn func([]store.SigningKey) (store.KeyChange, error)) error {
	c.updates.Add(1)
	return c.MemKeys.UpdateSigningKeys(ctx, fn)
}

func TestRunLocksOnlyWhenWorkIsDue(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m0, clk, mem := newTestManager(t, "RS256")
	if err := m0.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	st := &countingStore{MemKeys: mem}
	m := New(m0.cfg, st, m0.seal)
	tick := make(chan time.Time) // unbuffered: a send returns once Run took the tick
	done := make(chan struct{})
	go func() { m.Run(ctx, tick); close(done) }()
	step := func() { tick <- time.Time{}; tick <- time.Time{} } // the second send waits for the first tick's work

	step()
	if n := st.updates.Load(); n != 0 {
		t.Fatalf("idle ticks took the key lock %d times", n)
	}
	if _, err := m.Signing(); err != nil {
		t.Fatal("Run did not load the keys")
	}
	clk.Advance(31 * 24 * time.Hour)
	step()
	if n := st.updates.Load(); n != 1 {
		t.Fatalf("due rotation: %d locked updates, want 1", n)
	}
	if k, _ := m.List(ctx); len(k) != 3 {
		t.Fatalf("Run did not rotate: %d keys", len(k))
	}
	cancel()
	<-done
}

// gather returns every sample as `name{k="v",...}` → value, labels sorted.
func gather(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			var ls []string
			for _, l := range mt.GetLabel() {
				ls = append(ls, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			v := mt.GetGauge().GetValue()
			if mt.Counter != nil {
				v = mt.GetCounter().GetValue()
			}
			out[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = v
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	m, clk, _ := newTestManager(t, "RS256")
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry() // checks Collect against Describe
	if err := m.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	act, _ := m.Signing()
	for range 4 {
		if _, err := m.Signing(); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(10 * 24 * time.Hour)
	var next string
	for kid, st := range states(t, m) {
		if st == store.KeyNext {
			next = kid
		}
	}
	want := map[string]float64{
		`hubid_signing_key_age_seconds{alg="RS256",kid="` + act.ID() + `",state="active"}`: 10 * 86400,
		`hubid_signing_key_age_seconds{alg="RS256",kid="` + next + `",state="next"}`:       10 * 86400,
		`hubid_signing_key_next_rotation_seconds{alg="RS256"}`:                             20 * 86400,
		`hubid_tokens_signed_total{kid="` + act.ID() + `"}`:                                5,
		`hubid_tokens_signed_total{kid="` + next + `"}`:                                    0,
		`hubid_signing_key_reload_errors_total{}`:                                          0,
	}
	if got := gather(t, reg); !maps.Equal(got, want) {
		t.Fatalf("metrics\n got %v\nwant %v", got, want)
	}
	// The counter of a kid survives the snapshot swap of a rotation.
	clk.Advance(21 * 24 * time.Hour)
	if _, err := m.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Signing(); err != nil {
		t.Fatal(err)
	}
	got := gather(t, reg)
	if got[`hubid_tokens_signed_total{kid="`+act.ID()+`"}`] != 5 || got[`hubid_tokens_signed_total{kid="`+next+`"}`] != 1 {
		t.Fatalf("signature counters after rotation: %v", got)
	}
	if v := got[`hubid_signing_key_next_rotation_seconds{alg="RS256"}`]; v != 30*86400 {
		t.Fatalf("next rotation %v after rotating", v)
	}
}

func TestAuditToRecordsActorAndDetail(t *testing.T) {
	ctx := WithActor(context.Background(), "admin-api")
	m, _, _, audit := newAuditedManager(t, "RS256")
	if err := m.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	audit.take()
	act, _ := m.Signing()
	if _, err := m.RetireNow(ctx, act.ID()); err != nil {
		t.Fatal(err)
	}
	audit.mu.Lock()
	defer audit.mu.Unlock()
	if len(audit.events) != 3 {
		t.Fatalf("want removed, promoted, new next; got %+v", audit.events)
	}
	e := audit.events[0]
	if e.Kind != "key.removed" || e.ActorID != "admin-api" || e.Detail["kid"] != act.ID() ||
		e.Detail["from"] != "active" || e.Detail["forced"] != "true" || e.Time.IsZero() {
		t.Fatalf("emergency removal audit event: %+v", e)
	}
}

func BenchmarkSigning(b *testing.B) {
	kr, _ := newKeyring(b)
	m := New(Config{Algorithms: []string{"EdDSA"}, SigningAlgorithm: "EdDSA"}, storetest.NewMemKeys(), kr)
	if err := m.Ensure(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Signing(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkReloadUnchanged(b *testing.B) {
	kr, _ := newKeyring(b)
	m := New(Config{}, storetest.NewMemKeys(), kr)
	ctx := context.Background()
	if err := m.Ensure(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Reload(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
