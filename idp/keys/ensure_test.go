package keys

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// TestEnsureAlgorithmIsRotatedAlongside: an algorithm added at run time
// (a client's ES256 access tokens) gets an active and a next key, is
// published, and from then on every replica's scheduled rotation and a
// manual rotation cover it with RS256, though the configuration lists
// RS256 only.
func TestEnsureAlgorithmIsRotatedAlongside(t *testing.T) {
	ctx := context.Background()
	m, clk, st := newTestManager(t, "RS256")
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.EnsureAlgorithm(ctx, "HS256"); err == nil {
		t.Fatal("HS256 accepted")
	}
	if err := m.EnsureAlgorithm(ctx, "ES256"); err != nil {
		t.Fatal(err)
	}
	es, err := m.SigningFor("ES256")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Algorithms(); !slices.Equal(got, []string{"RS256", "ES256"}) {
		t.Fatalf("algorithms %v", got)
	}
	if !slices.Contains(jwksKids(t, m), es.ID()) {
		t.Fatal("the ES256 key is not published")
	}
	// Another replica, configured with RS256 only, rotates both when due.
	other := New(Config{Algorithms: []string{"RS256"}, Now: clk.Now, Policy: m.cfg.Policy}, st, m.seal)
	clk.Advance(m.cfg.Policy.RotationPeriod + time.Hour)
	evs, err := other.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rotated := map[string]bool{}
	for _, e := range evs {
		if e.From == "active" && e.To == "retired" {
			rotated[e.Algorithm] = true
		}
	}
	if !rotated["RS256"] || !rotated["ES256"] {
		t.Fatalf("scheduled rotation covered %v, want RS256 and ES256: %+v", rotated, evs)
	}
	// A manual rotation too.
	clk.Advance(m.cfg.Policy.PublishBefore)
	evs, err = m.Rotate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.To == string(store.KeyActive) {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("manual rotation activated %d keys, want 2 (RS256 and ES256): %+v", n, evs)
	}
}
