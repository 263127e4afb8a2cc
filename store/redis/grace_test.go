package redis

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
)

// failRevocations is a go-redis hook failing every command that touches
// the revocation set while on is set.
type failRevocations struct {
	key string
	on  atomic.Bool
}

func (h *failRevocations) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *failRevocations) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if h.on.Load() && slices.Contains(cmd.Args(), any(h.key)) {
			err := errors.New("injected: revocation set unreachable")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (h *failRevocations) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

var _ goredis.Hook = (*failRevocations)(nil)

// TestGraceRetryRevokesBeforeReplacing: a retry within the reuse grace
// revokes the access token of the successor it replaces before the script
// replaces it. When that revocation fails, the retry fails (unavailable)
// and the successor is kept as it was; once the revocation set is
// reachable again, the retry replaces it and its access token is revoked.
func TestGraceRetryRevokesBeforeReplacing(t *testing.T) {
	ctx := context.Background()
	addr, prefix := testenv.Redis(t)
	c := NewClient(ClientConfig{Addrs: []string{addr}})
	s := newStore(c, Options{Prefix: prefix}, false)
	t.Cleanup(func() { _ = s.Close() })
	hook := &failRevocations{key: s.revocationsKey()}
	c.AddHook(hook)

	const grace = 30 * time.Second
	now := time.Now()
	tok := func(id string) store.RefreshToken {
		return store.RefreshToken{ID: id, FamilyID: "fam-order", UserID: "u", CreatedAt: now,
			ExpiresAt: now.Add(time.Hour), AccessID: "at:" + id, AccessExpiresAt: now.Add(10 * time.Minute)}
	}
	if err := s.CreateRefreshToken(ctx, tok("rt-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateRefreshToken(ctx, "rt-1", tok("rt-2a"), grace); err != nil {
		t.Fatal(err)
	}

	hook.on.Store(true)
	_, err := s.RotateRefreshToken(ctx, "rt-1", tok("rt-2b"), grace)
	hook.on.Store(false)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("retry while the revocation fails: %v, want ErrUnavailable", err)
	}
	if old, err := s.GetRefreshToken(ctx, "fam-order", "rt-1"); err != nil || old.ReplacedBy != "rt-2a" {
		t.Fatalf("old token after the failed retry: %+v %v, want it still replaced by rt-2a", old, err)
	}
	if _, err := s.GetRefreshToken(ctx, "fam-order", "rt-2a"); err != nil {
		t.Fatalf("successor after the failed retry: %v, want it kept", err)
	}
	if _, err := s.GetRefreshToken(ctx, "fam-order", "rt-2b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the failed retry's token: %v, want not stored", err)
	}

	before, err := s.RotateRefreshToken(ctx, "rt-1", tok("rt-2c"), grace)
	if err != nil || before.ReplacedBy != "rt-2a" {
		t.Fatalf("retry once revocations work: %+v %v", before, err)
	}
	for id, want := range map[string]bool{"at:rt-2a": true, "at:rt-2c": false} {
		if got, err := s.IsTokenRevoked(ctx, id); err != nil || got != want {
			t.Errorf("access token %s revoked: %v %v, want %v", id, got, err, want)
		}
	}
}
