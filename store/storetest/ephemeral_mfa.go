package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// ephSecondStepState: the two-step verification state a session and an
// auth request carry (a setup in progress, a half-finished sign-in) is
// kept, returned as a copy, and cleared by an update.
func ephSecondStepState(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	now := clock.Now()
	sess := ephSession("s1", "user-1", now)
	sess.PendingTOTP = &store.PendingTOTP{Sealed: []byte{1, 2, 3}, Until: now.Add(15 * time.Minute), Verified: true}
	ephIs(t, "create session", s.CreateSession(ctx, sess), nil)
	got, err := s.GetSession(ctx, "s1")
	ephIs(t, "get session", err, nil)
	ephEqual(t, "pending TOTP", got.PendingTOTP, sess.PendingTOTP)
	got.PendingTOTP.Sealed[0] = 9 // a copy: the stored record is unchanged
	got, err = s.UpdateSession(ctx, "s1", func(x *store.Session) error {
		if x.PendingTOTP == nil || x.PendingTOTP.Sealed[0] != 1 {
			t.Errorf("stored pending TOTP changed through a copy: %+v", x.PendingTOTP)
		}
		x.PendingTOTP = nil
		return nil
	})
	ephIs(t, "clear pending", err, nil)
	if got.PendingTOTP != nil {
		t.Fatalf("pending TOTP after clearing: %+v", got.PendingTOTP)
	}

	ar := store.AuthRequest{ID: "ar1", ClientID: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	ephIs(t, "create auth request", s.CreateAuthRequest(ctx, ar), nil)
	step := &store.SecondStep{UserID: "user-1", Remember: true, PasswordAt: now, ExpiresAt: now.Add(5 * time.Minute),
		Binding: "b", SessionID: "s1", Setup: true, Forced: true, PendingSecret: []byte{4, 5},
		PendingUntil: now.Add(15 * time.Minute), Verified: true}
	_, err = s.UpdateAuthRequest(ctx, "ar1", func(a *store.AuthRequest) error { a.SecondStep = step; return nil })
	ephIs(t, "set second step", err, nil)
	gotAR, err := s.GetAuthRequest(ctx, "ar1")
	ephIs(t, "get auth request", err, nil)
	ephEqual(t, "second step", gotAR.SecondStep, step)
}
