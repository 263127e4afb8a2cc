package redis

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
)

// proxied returns a Store whose client (NewClient: one automatic retry)
// reaches Redis through a fault proxy.
func proxied(t *testing.T) (*Store, *testenv.Proxy) {
	t.Helper()
	addr, prefix := testenv.Redis(t)
	px := testenv.NewProxy(t, addr)
	s := newStore(NewClient(ClientConfig{Addrs: []string{px.Addr()}}), Options{Prefix: prefix}, false)
	t.Cleanup(func() { _ = s.Close() })
	return s, px
}

// rotationFixture returns a proxied Store holding the refresh token "old"
// of family fam, its successor-to-be "next" (not stored), with the
// rotation script loaded (so that a dropped reply is the script's).
func rotationFixture(t *testing.T, fam string, grace time.Duration) (*Store, *testenv.Proxy, store.RefreshToken, store.RefreshToken) {
	t.Helper()
	ctx := context.Background()
	s, px := proxied(t)
	now := time.Now()
	old := store.RefreshToken{ID: "old", FamilyID: fam, UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateRefreshToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	next := store.RefreshToken{ID: "next", FamilyID: fam, UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if _, err := s.RotateRefreshToken(ctx, "absent", next, grace); !errorsIs(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return s, px, old, next
}

// TestRetriedWritesAreIdempotent cuts the connection after the server ran
// a single-use script and before its reply arrives; go-redis then runs the
// script again on a new connection. The retry must find the result of its
// own first run, not a replay.
func TestRetriedWritesAreIdempotent(t *testing.T) {
	ctx := context.Background()
	t.Run("consume code", func(t *testing.T) {
		s, px := proxied(t)
		now := time.Now()
		// Load the script first, so that the dropped reply is the
		// script's and not NOSCRIPT's.
		if _, err := s.ConsumeAuthCode(ctx, "warm-up"); !errorsIs(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		code := store.AuthCode{ID: "code-lost-reply", GrantID: "g1", ClientID: "c", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		if err := s.CreateAuthCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		fired := px.DropReplyTo([]byte(code.ID))
		got, err := s.ConsumeAuthCode(ctx, code.ID)
		<-fired
		if err != nil || got.GrantID != "g1" || got.ConsumedAt.IsZero() {
			t.Fatalf("consume with a lost reply: %+v %v, want the code once", got, err)
		}
		// A real second redemption is still a replay.
		if _, err := s.ConsumeAuthCode(ctx, code.ID); !errorsIs(err, store.ErrAlreadyUsed) {
			t.Fatalf("second redemption: %v, want ErrAlreadyUsed", err)
		}
	})
	for _, grace := range []time.Duration{0, 10 * time.Second} {
		t.Run("rotate refresh token/grace "+grace.String(), func(t *testing.T) {
			s, px, old, next := rotationFixture(t, "fam-lost-reply", grace)
			now, fam := old.CreatedAt, old.FamilyID
			fired := px.DropReplyTo([]byte(next.ID))
			got, err := s.RotateRefreshToken(ctx, old.ID, next, grace)
			<-fired
			// A first rotation reports old as it was before the call:
			// current (no RotatedAt), not a retry within the grace.
			if err != nil || got.ID != "old" || !got.RotatedAt.IsZero() || got.ReplacedBy != "" {
				t.Fatalf("rotate with a lost reply: %+v %v, want a first rotation's success", got, err)
			}
			if _, err := s.GetRefreshToken(ctx, fam, "next"); err != nil {
				t.Fatalf("the successor after the retry: %v", err)
			}
			// Presenting the old token again, outside any grace, is reuse.
			again := store.RefreshToken{ID: "next2", FamilyID: fam, UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if _, err := s.RotateRefreshToken(ctx, old.ID, again, 0); !errorsIs(err, store.ErrAlreadyUsed) {
				t.Fatalf("real reuse: %v, want ErrAlreadyUsed", err)
			}
		})
	}
}
