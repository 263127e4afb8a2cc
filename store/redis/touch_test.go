package redis

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
)

// commandLog is a go-redis hook recording the name of every command sent,
// in pipelines too.
type commandLog struct {
	mu    sync.Mutex
	names []string
}

func (h *commandLog) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *commandLog) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.add(cmd)
		return next(ctx, cmd)
	}
}

func (h *commandLog) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, c := range cmds {
			h.add(c)
		}
		return next(ctx, cmds)
	}
}

func (h *commandLog) add(c goredis.Cmder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.names = append(h.names, c.Name())
}

func (h *commandLog) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.names
	h.names = nil
	return out
}

// TestTouchSessionIsOneScript: touching a session as read is one script
// and the index's (no WATCH transaction, which UpdateSession needs); a
// touch of a session changed since the read falls back to that
// transaction. The conformance suite checks what both leave stored.
func TestTouchSessionIsOneScript(t *testing.T) {
	ctx := context.Background()
	addr, prefix := testenv.Redis(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	now := time.Now().Truncate(time.Second)
	s := newStore(c, Options{Prefix: prefix, Now: func() time.Time { return now }}, false)
	t.Cleanup(func() { _ = s.Close() })
	log := &commandLog{}
	c.AddHook(log)

	x := store.Session{ID: "sess-touch", UserID: "u", AuthTime: now, Remember: true, CreatedAt: now, LastSeen: now,
		AbsoluteEnd: now.Add(24 * time.Hour), ExpiresAt: now.Add(time.Hour), Clients: []string{"portal"},
		OrgChoices: map[string]string{"portal": "org-1"}}
	if err := s.CreateSession(ctx, x); err != nil {
		t.Fatal(err)
	}
	read, err := s.GetSession(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	log.take()
	if _, err := s.TouchSession(ctx, read, now, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	names := log.take()
	if len(names) != 2 {
		t.Errorf("touch of the session as read sent %v; want the two scripts", names)
	}
	for _, name := range names {
		if name != "evalsha" && name != "eval" {
			t.Errorf("touch of the session as read sent %q; want only the two scripts", name)
		}
	}

	// read is stale now (LastSeen and ExpiresAt moved): the transaction.
	if _, err := s.TouchSession(ctx, read, now, now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if names := log.take(); !slices.Contains(names, "watch") {
		t.Errorf("touch of a stale read sent %v; want the WATCH transaction", names)
	}
	got, err := s.GetSession(ctx, x.ID)
	if err != nil || !got.ExpiresAt.Equal(now.Add(3*time.Hour)) {
		t.Fatalf("after the fallback: %+v %v, want ExpiresAt %v", got, err, now.Add(3*time.Hour))
	}
}
