package idp_test

import (
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

func TestPurgeAuditKeepsTheRetentionWindow(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{}) // retention 400 days by default
	now := time.Now()
	for _, age := range []time.Duration{401 * 24 * time.Hour, 399 * 24 * time.Hour, time.Hour} {
		if _, err := env.Durable.AppendAudit(t.Context(), store.AuditEvent{Time: now.Add(-age), Kind: "signin.success", UserID: "u1"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := env.Server.PurgeAudit(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want exactly the 401-day-old event", n, err)
	}
	left, _ := env.Durable.ListAudit(t.Context(), store.AuditFilter{UserID: "u1"})
	if len(left) != 2 {
		t.Fatalf("%d events left, want 2", len(left))
	}
}

func TestPurgeOutboxDropsDeliveredMailAfterAWeek(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	id, err := env.Durable.EnqueueOutbox(t.Context(), store.OutboxMessage{Kind: "mail", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Durable.MarkOutboxSent(t.Context(), id, time.Now().Add(-8*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := env.Server.PurgeOutbox(t.Context()); err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
}
