package memory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// TestSaveLoad: live sessions and refresh tokens survive a save and a
// load into a new store; records expired by the time of the load are
// dropped; a missing file loads nothing; a corrupt one is an error and
// leaves the store empty.
func TestSaveLoad(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
	a := New(Options{Now: clk.Now})
	now := clk.Now()
	long := store.Session{ID: "s-long", UserID: "u1", CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(14 * 24 * time.Hour), AbsoluteEnd: now.Add(30 * 24 * time.Hour)}
	short := store.Session{ID: "s-short", UserID: "u1", CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Minute), AbsoluteEnd: now.Add(time.Hour)}
	for _, s := range []store.Session{long, short} {
		if err := a.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	rt := store.RefreshToken{ID: "rt-1", FamilyID: "fam", UserID: "u1", CreatedAt: now, FamilyCreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	if err := a.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ephemeral.gob")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}

	clk.Advance(2 * time.Minute)
	b := New(Options{Now: clk.Now})
	if err := b.Load(path); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetSession(ctx, long.ID); err != nil {
		t.Fatalf("live session after load: %v", err)
	}
	if _, err := b.GetSession(ctx, short.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session after load: %v", err)
	}
	if len(b.sessions) != 1 {
		t.Fatalf("expired records kept: %d sessions", len(b.sessions))
	}
	if list, err := b.ListUserSessions(ctx, "u1"); err != nil || len(list) != 1 {
		t.Fatalf("user's sessions after load: %v %v", list, err)
	}
	if _, err := b.RotateRefreshToken(ctx, rt.ID, store.RefreshToken{ID: "rt-2", FamilyID: "fam", UserID: "u1", ExpiresAt: clk.Now().Add(time.Hour)}, 0); err != nil {
		t.Fatalf("rotate a loaded refresh token: %v", err)
	}

	if err := New(Options{}).Load(filepath.Join(t.TempDir(), "none")); err != nil {
		t.Fatalf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("not a gob"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := New(Options{})
	if err := c.Load(bad); err == nil || len(c.sessions) != 0 {
		t.Fatalf("corrupt file: %v, %d sessions", err, len(c.sessions))
	}
}
