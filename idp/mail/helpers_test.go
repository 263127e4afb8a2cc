package mail

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/outbox"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

var (
	_ outbox.Store = (*sqlite.Store)(nil)
	_ Outbox       = store.Durable(nil)
)

const helpdesk = "help@hub.example / 03-1234-5678"

func newClock() *storetest.Clock {
	return storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}

func newBundle(t *testing.T) *i18n.Bundle {
	t.Helper()
	b, err := i18n.New(Messages)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newComposer(t *testing.T) *Composer {
	t.Helper()
	c, err := NewComposer(newBundle(t), helpdesk)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newMailWorker(t *testing.T, s *sqlite.Store, sender Sender, clk *storetest.Clock) *outbox.Worker {
	t.Helper()
	w, err := NewWorker(s, sender, outbox.Config{
		Now:     clk.Now,
		Timeout: 5 * time.Second,
		Backoff: func(int) time.Duration { return time.Minute },
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func runOnce(t *testing.T, w *outbox.Worker, wantSent, wantFailed int) {
	t.Helper()
	sent, failed, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if sent != wantSent || failed != wantFailed {
		t.Fatalf("RunOnce = %d sent, %d failed; want %d, %d", sent, failed, wantSent, wantFailed)
	}
}

func getOutbox(t *testing.T, s *sqlite.Store, id int64) store.OutboxMessage {
	t.Helper()
	m, err := s.GetOutbox(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// idRecorder remembers the ID of the last message queued through it.
type idRecorder struct {
	Outbox
	id int64
}

func (r *idRecorder) EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (int64, error) {
	id, err := r.Outbox.EnqueueOutbox(ctx, m)
	r.id = id
	return id, err
}

// enqueueTx queues m in a transaction, as callers do, and returns its
// outbox ID.
func enqueueTx(t *testing.T, s *sqlite.Store, m Message) int64 {
	t.Helper()
	ctx := context.Background()
	var rec idRecorder
	err := s.InTx(ctx, func(tx store.Durable) error {
		rec.Outbox = tx
		return Enqueue(ctx, &rec, m)
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec.id
}
