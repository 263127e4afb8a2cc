package redis

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// TestInterruptedRotationLeavesOneValid cuts a rotation twice: the
// server runs the script and its reply is lost, and Redis is then down
// for go-redis's retry. Whatever the caller was told, the store holds
// exactly one valid token of the two — the old one not rotated, or the
// new one with the old one rotated into it — never both, never neither.
// With a reuse grace, presenting the old token again (the client's retry
// after the outage) gets a valid successor either way.
func TestInterruptedRotationLeavesOneValid(t *testing.T) {
	ctx := context.Background()
	for _, grace := range []time.Duration{0, 10 * time.Second} {
		t.Run("grace "+grace.String(), func(t *testing.T) {
			s, px, old, next := rotationFixture(t, "fam-interrupted", grace)
			now, fam := old.CreatedAt, old.FamilyID
			fired := px.DropReplyTo([]byte(next.ID))
			done := make(chan error, 1)
			go func() {
				_, err := s.RotateRefreshToken(ctx, old.ID, next, grace)
				done <- err
			}()
			<-fired
			px.SetDown(true) // the retry meets the outage (or, if quicker, succeeds)
			err := <-done
			if err != nil && !errorsIs(err, store.ErrUnavailable) {
				t.Fatalf("interrupted rotation: %v, want success or ErrUnavailable", err)
			}
			px.SetDown(false)

			o, oerr := s.GetRefreshToken(ctx, fam, old.ID)
			n, nerr := s.GetRefreshToken(ctx, fam, next.ID)
			oldValid := oerr == nil && o.RotatedAt.IsZero()
			newValid := nerr == nil && n.RotatedAt.IsZero()
			if oldValid == newValid {
				t.Fatalf("after the interruption (caller got %v): old valid %v (%+v %v), new valid %v (%v)", err, oldValid, o, oerr, newValid, nerr)
			}
			t.Logf("caller got %v; valid afterwards: old %v, new %v", err, oldValid, newValid)
			if newValid && o.ReplacedBy != next.ID {
				t.Fatalf("the new token is valid but the old one is not rotated into it: %+v", o)
			}
			if grace > 0 {
				// The client, told "unavailable", presents the old token again.
				again := store.RefreshToken{ID: "next2", FamilyID: fam, UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				if _, err := s.RotateRefreshToken(ctx, old.ID, again, grace); err != nil {
					t.Fatalf("the client's retry within the grace: %v", err)
				}
			}
		})
	}
}
