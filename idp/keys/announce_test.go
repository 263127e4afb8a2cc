package keys

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/store/storetest"
)

// fakeBus delivers announcements to every replica's callbacks at once
// while up; while down they are lost, as on a broken Redis subscription.
type fakeBus struct {
	mu   sync.Mutex
	down bool
	fns  []func(kind, id string)
}

func (b *fakeBus) Invalidate(_ context.Context, kind, id string) error {
	b.mu.Lock()
	fns := slices.Clone(b.fns)
	down := b.down
	b.mu.Unlock()
	if !down {
		for _, fn := range fns {
			fn(kind, id)
		}
	}
	return nil
}

func (b *fakeBus) OnInvalidate(fn func(kind, id string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fns = append(b.fns, fn)
}

func (b *fakeBus) setDown(down bool) { b.mu.Lock(); b.down = down; b.mu.Unlock() }

// replica is a manager on the shared key store that follows the bus and
// runs its loop on a tick channel the test owns.
func replica(t *testing.T, st *storetest.MemKeys, clk *storetest.Clock, bus *fakeBus, kr Sealer) (*Manager, chan time.Time) {
	t.Helper()
	m := New(Config{Now: clk.Now, Announce: AnnounceOn(bus)}, st, kr)
	FollowAnnouncements(m, bus)
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx, tick) }()
	t.Cleanup(func() { cancel(); <-done })
	return m, tick
}

// awaitKid waits (bounded, on Changed) until m publishes kid.
func awaitKid(t *testing.T, m *Manager, kid string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		ch := m.Changed()
		if slices.Contains(jwksKids(t, m), kid) {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("kid %s not published within 10 s: %v", kid, jwksKids(t, m))
		}
	}
}

func newNextKid(t *testing.T, evs []Event) string {
	t.Helper()
	for _, e := range evs {
		if e.To == "next" {
			return e.KID
		}
	}
	t.Fatalf("no new next key in %+v", evs)
	return ""
}

// TestAnnouncedRotationReachesReplicaAtOnce: a forced rotation on one
// replica is served by another as soon as the announcement arrives; its
// polling clock never moves. With the bus down, the other replica learns
// at its next poll, and after a resubscription ("forget everything")
// without waiting for one.
func TestAnnouncedRotationReachesReplicaAtOnce(t *testing.T) {
	ctx := context.Background()
	st, clk, bus := storetest.NewMemKeys(), storetest.NewClock(time.Now().Truncate(time.Second)), &fakeBus{}
	kr, _ := newKeyring(t)
	a, _ := replica(t, st, clk, bus, kr)
	if err := a.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	b, bTick := replica(t, st, clk, bus, kr)
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}

	evs, err := a.Rotate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	awaitKid(t, b, newNextKid(t, evs)) // no tick sent

	// Announcements lost: b does not know until its poll.
	bus.setDown(true)
	evs, err = a.Rotate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	lost := newNextKid(t, evs)
	if slices.Contains(jwksKids(t, b), lost) {
		t.Fatal("b learnt of a change whose announcement was lost")
	}
	bTick <- clk.Now() // the polling clock moves once
	awaitKid(t, b, lost)

	// Lost again; the bus comes back and b's resubscription tells it to
	// forget everything, which reloads the keys.
	evs, err = a.Rotate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	missed := newNextKid(t, evs)
	bus.setDown(false)
	if err := bus.Invalidate(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	awaitKid(t, b, missed)
}
