package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// ephSessionTouch: TouchSession slides a session as UpdateSession would,
// keeps a change written after the caller's read, clamps to AbsoluteEnd,
// moves the TTL, and reports a session that is gone.
func ephSessionTouch(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	x := ephSession("sess-t", "user-1", clock.Now())
	ephIs(t, "create", s.CreateSession(ctx, x), nil)

	read, err := s.GetSession(ctx, x.ID)
	ephIs(t, "get", err, nil)
	clock.Advance(50 * time.Minute)
	now := clock.Now()
	got, err := s.TouchSession(ctx, read, now, now.Add(time.Hour))
	ephIs(t, "touch", err, nil)
	want := x
	want.LastSeen, want.ExpiresAt = now, now.Add(time.Hour)
	ephEqual(t, "touch result", got, want)
	got, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get after touch", err, nil)
	ephEqual(t, "get after touch", got, want)

	// The TTL moved with ExpiresAt: alive past the old expiry.
	clock.Advance(30 * time.Minute)
	read, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get past the expiry before the touch", err, nil)

	// A write between the read and the touch is kept.
	_, err = s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.Clients = append(x.Clients, "shop")
		return nil
	})
	ephIs(t, "update after read", err, nil)
	now = clock.Now()
	got, err = s.TouchSession(ctx, read, now, now.Add(time.Hour))
	ephIs(t, "touch of a stale read", err, nil)
	want.Clients = []string{"portal", "shop"}
	want.LastSeen, want.ExpiresAt = now, now.Add(time.Hour)
	ephEqual(t, "touch of a stale read", got, want)
	got, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get after touch of a stale read", err, nil)
	ephEqual(t, "get after touch of a stale read (a lost update drops shop)", got, want)

	// Never past the absolute end.
	got, err = s.TouchSession(ctx, got, now, x.AbsoluteEnd.Add(time.Hour))
	ephIs(t, "touch past the absolute end", err, nil)
	if !got.ExpiresAt.Equal(x.AbsoluteEnd) {
		t.Fatalf("ExpiresAt = %v, want clamped to AbsoluteEnd %v", got.ExpiresAt, x.AbsoluteEnd)
	}
	got, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get after clamped touch", err, nil)
	if !got.ExpiresAt.Equal(x.AbsoluteEnd) {
		t.Fatalf("stored ExpiresAt = %v, want clamped to AbsoluteEnd %v", got.ExpiresAt, x.AbsoluteEnd)
	}

	// Touching to a time already past ends the session.
	_, err = s.TouchSession(ctx, got, now, now)
	ephIs(t, "touch ending the session", err, nil)
	_, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get after touch ending the session", err, store.ErrNotFound)

	// Gone, or expired since it was read: ErrNotFound, nothing created.
	_, err = s.TouchSession(ctx, got, now, now.Add(time.Hour))
	ephIs(t, "touch of an ended session", err, store.ErrNotFound)
	y := ephSession("sess-t2", "user-1", clock.Now())
	ephIs(t, "create second", s.CreateSession(ctx, y), nil)
	read, err = s.GetSession(ctx, y.ID)
	ephIs(t, "get second", err, nil)
	clock.Advance(2 * time.Hour)
	now = clock.Now()
	_, err = s.TouchSession(ctx, read, now, now.Add(time.Hour))
	ephIs(t, "touch of an expired session", err, store.ErrNotFound)
	_, err = s.GetSession(ctx, y.ID)
	ephIs(t, "get of the expired session after the touch", err, store.ErrNotFound)
}

// ephContentionTouchSession: touches from stale reads racing updates
// lose none of the updates, and the last touch's times stay.
func ephContentionTouchSession(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	const n = 40
	x := ephSession("sess-touch-hot", "user-1", clock.Now())
	x.Clients = nil
	ephIs(t, "create", s.CreateSession(ctx, x), nil)
	read, err := s.GetSession(ctx, x.ID)
	ephIs(t, "get", err, nil)
	now := clock.Now()
	errs := Together(n, func(i int) error {
		if i%2 == 0 {
			_, err := s.TouchSession(ctx, read, now, now.Add(2*time.Hour))
			return err
		}
		_, err := s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
			x.Clients = append(x.Clients, fmt.Sprintf("client-%02d", i))
			return nil
		})
		return err
	})
	counts, other := ephTally(errs)
	if counts["nil"] != n {
		t.Fatalf("parallel touches and updates: %v (first error: %v)", counts, other)
	}
	got, err := s.GetSession(ctx, x.ID)
	ephIs(t, "get", err, nil)
	slices.Sort(got.Clients)
	var want []string
	for i := 1; i < n; i += 2 {
		want = append(want, fmt.Sprintf("client-%02d", i))
	}
	ephEqual(t, "clients after parallel touches and appends (a lost update drops one)", got.Clients, want)
	if !got.ExpiresAt.Equal(now.Add(2 * time.Hour)) {
		t.Fatalf("ExpiresAt = %v, want the touches' %v", got.ExpiresAt, now.Add(2*time.Hour))
	}
}
