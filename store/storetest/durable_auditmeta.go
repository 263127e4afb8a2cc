package storetest

import (
	"context"
	"testing"

	"github.com/customerhub/hubid/store"
)

// durAuditRequestMeta: an event appended with a context carrying the
// request's client address and User-Agent (store.WithRequestMeta) records
// them, also inside a transaction; an event naming its own keeps them; a
// context without request meta records none.
func durAuditRequestMeta(t *testing.T, open DurableOpener) {
	s, _ := durOpen(t, open)
	ctx := store.WithRequestMeta(context.Background(), "198.51.100.7", "Mozilla/5.0 (X11; Linux) テスト")
	if m := store.RequestMetaFrom(ctx); m.IP != "198.51.100.7" {
		t.Fatalf("RequestMetaFrom: %+v", m)
	}
	_, err := s.AppendAudit(ctx, store.AuditEvent{Kind: "meta.ctx", UserID: "u1"})
	durMust(t, "AppendAudit with request meta", err)
	err = s.InTx(ctx, func(tx store.Durable) error {
		_, err := tx.AppendAudit(ctx, store.AuditEvent{Kind: "meta.tx", UserID: "u1"})
		return err
	})
	durMust(t, "AppendAudit in a transaction", err)
	_, err = s.AppendAudit(ctx, store.AuditEvent{Kind: "meta.own", UserID: "u1", IP: "192.0.2.9", UserAgent: "own"})
	durMust(t, "AppendAudit with its own", err)
	_, err = s.AppendAudit(context.Background(), store.AuditEvent{Kind: "meta.none", UserID: "u1"})
	durMust(t, "AppendAudit without request meta", err)

	got, err := s.ListAudit(context.Background(), store.AuditFilter{UserID: "u1"})
	durMust(t, "ListAudit", err)
	want := map[string][2]string{
		"meta.ctx":  {"198.51.100.7", "Mozilla/5.0 (X11; Linux) テスト"},
		"meta.tx":   {"198.51.100.7", "Mozilla/5.0 (X11; Linux) テスト"},
		"meta.own":  {"192.0.2.9", "own"},
		"meta.none": {"", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for _, e := range got {
		if w := want[e.Kind]; e.IP != w[0] || e.UserAgent != w[1] {
			t.Errorf("%s: IP %q, User-Agent %q; want %q, %q", e.Kind, e.IP, e.UserAgent, w[0], w[1])
		}
	}
}
