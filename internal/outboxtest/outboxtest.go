// Package outboxtest holds test helpers for outbox workers (idp/outbox's
// generic worker and idp/backchannel's): one pass checked against the
// expected counts, passes of several workers at once, a message read back.
package outboxtest

import (
	"context"
	"sync"
	"testing"

	"github.com/customerhub/hubid/store"
)

// Runner is an outbox worker: one pass over due messages.
type Runner interface {
	RunOnce(ctx context.Context) (sent, failed int, err error)
}

// RunOnce runs one pass of w and fails t unless it sent and failed the
// given numbers of messages.
func RunOnce(t *testing.T, w Runner, wantSent, wantFailed int) {
	t.Helper()
	sent, failed, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if sent != wantSent || failed != wantFailed {
		t.Fatalf("RunOnce = %d sent, %d failed; want %d, %d", sent, failed, wantSent, wantFailed)
	}
}

// RunTogether starts one pass of every worker at the same moment and
// returns how many messages they sent in all; a failure or error fails t.
func RunTogether[W Runner](t *testing.T, workers []W) (sent int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := make(chan struct{})
	for _, w := range workers {
		wg.Go(func() {
			<-start
			n, failed, err := w.RunOnce(context.Background())
			if err != nil || failed != 0 {
				t.Errorf("RunOnce: %d failed, %v", failed, err)
			}
			mu.Lock()
			sent += n
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return sent
}

// Get reads message id back.
func Get(t *testing.T, s store.OutboxStore, id int64) store.OutboxMessage {
	t.Helper()
	m, err := s.GetOutbox(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
