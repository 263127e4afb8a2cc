package memory

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// TestSweep checks that expired records of every kind are freed by the
// next write once SweepInterval has passed on the injected clock.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	s := New(Options{Now: clock.Now, SweepInterval: time.Hour})
	now := clock.Now()
	exp := now.Add(time.Minute)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateSession(ctx, store.Session{ID: "s", UserID: "u", ExpiresAt: exp}))
	must(s.CreateAuthRequest(ctx, store.AuthRequest{ID: "r", ExpiresAt: exp}))
	must(s.CreateAuthCode(ctx, store.AuthCode{ID: "c", ExpiresAt: exp}))
	must(s.CreateRefreshToken(ctx, store.RefreshToken{ID: "t", FamilyID: "f", ExpiresAt: exp}))
	must(s.RevokeFamily(ctx, "f2", exp))
	must(s.RevokeToken(ctx, "j", exp))
	_, _, err := s.HitCounter(ctx, "k", time.Minute)
	must(err)
	must(s.UseTOTPStep(ctx, "u", 1, exp))
	if got := s.size(); got != 10 { // 8 kinds + user index + family of "t"
		t.Fatalf("size = %d, want 10", got)
	}

	clock.Advance(time.Minute)
	must(s.RevokeToken(ctx, "j2", clock.Now().Add(time.Hour))) // a write, sweep not due
	if got := s.size(); got != 11 {
		t.Fatalf("size before sweep is due = %d, want 11", got)
	}
	clock.Advance(time.Hour)
	must(s.RevokeToken(ctx, "j3", clock.Now().Add(time.Hour))) // sweeps
	if got := s.size(); got != 1 {
		t.Fatalf("size after sweep = %d, want 1 (only j3)", got)
	}
	s.Sweep()
	if got := s.size(); got != 1 {
		t.Fatalf("size after explicit sweep = %d, want 1", got)
	}
}
