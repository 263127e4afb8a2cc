package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// durAuditSeed appends n events: user u1/u2 alternating, org o1 for the
// first half, kinds cycling over three, one minute apart from the clock.
func durAuditSeed(t *testing.T, s store.Durable, now time.Time, n int) []store.AuditEvent {
	t.Helper()
	kinds := []string{"signin.success", "signin.failure", "password.changed"}
	var out []store.AuditEvent
	var last int64
	for i := range n {
		e := store.AuditEvent{
			Time: now.Add(time.Duration(i) * time.Minute), Kind: kinds[i%3],
			ActorID: "admin", UserID: fmt.Sprintf("u%d", 1+i%2), OrgID: "o2", ClientID: "c1",
			IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (Ünïcode)",
			Detail: map[string]string{"n": fmt.Sprint(i), "quote": `"x"`},
		}
		if i < n/2 {
			e.OrgID = "o1"
		}
		if i%4 == 0 {
			e.Detail = nil
		}
		id, err := s.AppendAudit(context.Background(), e)
		durMust(t, "AppendAudit", err)
		if id <= last {
			t.Fatalf("AppendAudit returned ID %d after %d; want increasing IDs", id, last)
		}
		last, e.ID = id, id
		out = append(out, e)
	}
	return out
}

// durAuditWant is the reference filter: the events keep matches, newest
// first, at most limit.
func durAuditWant(events []store.AuditEvent, limit int, keep func(store.AuditEvent) bool) []store.AuditEvent {
	var out []store.AuditEvent
	for _, e := range slices.Backward(events) {
		if keep(e) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out
}

func durAudit(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	events := durAuditSeed(t, s, now, 12)
	all := func(store.AuditEvent) bool { return true }

	cases := []struct {
		name string
		f    store.AuditFilter
		keep func(store.AuditEvent) bool
	}{
		{"all", store.AuditFilter{}, all},
		{"user", store.AuditFilter{UserID: "u2"}, func(e store.AuditEvent) bool { return e.UserID == "u2" }},
		{"org", store.AuditFilter{OrgID: "o1"}, func(e store.AuditEvent) bool { return e.OrgID == "o1" }},
		{"user and org", store.AuditFilter{UserID: "u1", OrgID: "o2"},
			func(e store.AuditEvent) bool { return e.UserID == "u1" && e.OrgID == "o2" }},
		{"one kind", store.AuditFilter{Kinds: []string{"password.changed"}},
			func(e store.AuditEvent) bool { return e.Kind == "password.changed" }},
		{"two kinds", store.AuditFilter{Kinds: []string{"signin.success", "signin.failure"}},
			func(e store.AuditEvent) bool { return e.Kind != "password.changed" }},
		{"since inclusive, until exclusive",
			store.AuditFilter{Since: now.Add(3 * time.Minute), Until: now.Add(7 * time.Minute)},
			func(e store.AuditEvent) bool {
				return !e.Time.Before(now.Add(3*time.Minute)) && e.Time.Before(now.Add(7*time.Minute))
			}},
		{"before ID", store.AuditFilter{BeforeID: events[5].ID},
			func(e store.AuditEvent) bool { return e.ID < events[5].ID }},
		{"limit", store.AuditFilter{Limit: 4}, all},
		{"everything", store.AuditFilter{UserID: "u1", OrgID: "o1", Kinds: []string{"signin.success", "password.changed"},
			Since: now.Add(time.Minute), BeforeID: events[5].ID, Limit: 1},
			func(e store.AuditEvent) bool {
				return e.UserID == "u1" && e.OrgID == "o1" && e.Kind != "signin.failure" &&
					!e.Time.Before(now.Add(time.Minute)) && e.ID < events[5].ID
			}},
		{"no match", store.AuditFilter{UserID: "nobody"}, func(store.AuditEvent) bool { return false }},
	}
	for _, tc := range cases {
		limit := tc.f.Limit
		if limit == 0 {
			limit = 50
		}
		want := durAuditWant(events, limit, tc.keep)
		got, err := s.ListAudit(ctx, tc.f)
		durIs(t, "ListAudit "+tc.name, err, nil)
		if len(want) == 0 && len(got) == 0 {
			continue
		}
		durEqual(t, "ListAudit "+tc.name, got, want)
	}

	// PurgeAudit deletes events older than `before` (exclusive).
	n, err := s.PurgeAudit(ctx, now.Add(4*time.Minute))
	durIs(t, "PurgeAudit", err, nil)
	durEqual(t, "PurgeAudit count", n, int64(4))
	got, _ := s.ListAudit(ctx, store.AuditFilter{})
	durEqual(t, "after purge", got, durAuditWant(events[4:], 50, all))
	n, err = s.PurgeAudit(ctx, now.Add(4*time.Minute))
	durIs(t, "PurgeAudit again", err, nil)
	durEqual(t, "PurgeAudit again count", n, int64(0))

	// A zero Time is the clock's; IDs keep increasing after a purge.
	clk.Advance(time.Hour)
	id, err := s.AppendAudit(ctx, store.AuditEvent{Kind: "system.tick"})
	durIs(t, "AppendAudit zero time", err, nil)
	if id <= events[len(events)-1].ID {
		t.Fatalf("AppendAudit after purge returned ID %d, want > %d", id, events[len(events)-1].ID)
	}
	got, _ = s.ListAudit(ctx, store.AuditFilter{Limit: 1})
	durEqual(t, "zero-time event", got, []store.AuditEvent{{ID: id, Kind: "system.tick", Time: clk.Now()}})
}

func durAuditPaging(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	events := durAuditSeed(t, s, clk.Now(), 57)

	got, err := s.ListAudit(ctx, store.AuditFilter{})
	durIs(t, "ListAudit default limit", err, nil)
	durEqual(t, "default limit is 50", len(got), 50)
	durEqual(t, "newest first", got[0].ID, events[56].ID)

	// Page through u1's events 7 at a time: every one exactly once.
	var paged []store.AuditEvent
	var before int64
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page, err := s.ListAudit(ctx, store.AuditFilter{UserID: "u1", BeforeID: before, Limit: 7})
		durIs(t, "ListAudit page", err, nil)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1].ID
	}
	want := durAuditWant(events, 1000, func(e store.AuditEvent) bool { return e.UserID == "u1" })
	durEqual(t, "paged events", paged, want)
}

func durOutbox(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	lease := time.Minute

	id1, err := s.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "mail", Payload: []byte(`{"to":"a@example.com"}`)})
	durIs(t, "EnqueueOutbox", err, nil)
	id2, err := s.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "mail", Payload: []byte(`{"to":"b"}`),
		NextAttempt: now.Add(10 * time.Minute)})
	durIs(t, "EnqueueOutbox later", err, nil)
	id3, err := s.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "backchannel_logout", Payload: []byte(`{}`)})
	durIs(t, "EnqueueOutbox other kind", err, nil)
	if id1 >= id2 || id2 >= id3 {
		t.Fatalf("outbox IDs %d, %d, %d: want increasing", id1, id2, id3)
	}

	m1 := store.OutboxMessage{ID: id1, Kind: "mail", Payload: []byte(`{"to":"a@example.com"}`),
		CreatedAt: now, NextAttempt: now}
	got, err := s.GetOutbox(ctx, id1)
	durIs(t, "GetOutbox", err, nil)
	durEqual(t, "GetOutbox (zero NextAttempt = CreatedAt)", got, m1)

	claimed, err := s.ClaimOutbox(ctx, "mail", now, lease, 10)
	durIs(t, "ClaimOutbox", err, nil)
	m1.LeaseUntil = now.Add(lease)
	durEqual(t, "first claim", claimed, []store.OutboxMessage{m1})
	claimed, _ = s.ClaimOutbox(ctx, "mail", now.Add(lease-time.Microsecond), lease, 10)
	durEqual(t, "claim while leased", len(claimed), 0)
	// The lease ends at LeaseUntil: the message is due again.
	claimed, _ = s.ClaimOutbox(ctx, "mail", now.Add(lease), lease, 10)
	m1.LeaseUntil = now.Add(2 * lease)
	durEqual(t, "claim after lease", claimed, []store.OutboxMessage{m1})

	sentAt := now.Add(90 * time.Second)
	durIs(t, "MarkOutboxSent", s.MarkOutboxSent(ctx, id1, sentAt), nil)
	got, _ = s.GetOutbox(ctx, id1)
	m1.SentAt, m1.LeaseUntil = sentAt, time.Time{}
	durEqual(t, "sent message", got, m1)

	// Only due, unsent messages of the kind are claimed.
	claimed, _ = s.ClaimOutbox(ctx, "mail", now.Add(time.Hour), lease, 10)
	if len(claimed) != 1 || claimed[0].ID != id2 {
		t.Fatalf("claim at +1h: got %+v, want only message %d", claimed, id2)
	}
	durIs(t, "MarkOutboxFailed", s.MarkOutboxFailed(ctx, id2, "smtp: 451 try later", now.Add(2*time.Hour)), nil)
	got, _ = s.GetOutbox(ctx, id2)
	durEqual(t, "failed message", got, store.OutboxMessage{ID: id2, Kind: "mail", Payload: []byte(`{"to":"b"}`),
		CreatedAt: now, Attempts: 1, NextAttempt: now.Add(2 * time.Hour), LastError: "smtp: 451 try later"})
	claimed, _ = s.ClaimOutbox(ctx, "mail", now.Add(2*time.Hour-time.Microsecond), lease, 10)
	durEqual(t, "claim before retry", len(claimed), 0)
	claimed, _ = s.ClaimOutbox(ctx, "mail", now.Add(2*time.Hour), lease, 10)
	durEqual(t, "claim at retry", len(claimed), 1)

	// A zero next gives up for good.
	durIs(t, "MarkOutboxFailed give up", s.MarkOutboxFailed(ctx, id2, "smtp: 550 no such user", time.Time{}), nil)
	got, _ = s.GetOutbox(ctx, id2)
	durEqual(t, "given up: attempts", got.Attempts, 2)
	durEqual(t, "given up: next", got.NextAttempt, time.Time{})
	claimed, _ = s.ClaimOutbox(ctx, "mail", now.Add(100*365*24*time.Hour), lease, 10)
	durEqual(t, "claim given up", len(claimed), 0)

	claimed, _ = s.ClaimOutbox(ctx, "backchannel_logout", now, lease, 10)
	durEqual(t, "other kind", len(claimed), 1)

	_, err = s.GetOutbox(ctx, 999999)
	durIs(t, "GetOutbox missing", err, store.ErrNotFound)
	durIs(t, "MarkOutboxSent missing", s.MarkOutboxSent(ctx, 999999, now), store.ErrNotFound)
	durIs(t, "MarkOutboxFailed missing", s.MarkOutboxFailed(ctx, 999999, "x", now), store.ErrNotFound)
}

func durOutboxRetry(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	// Due order is NextAttempt, then ID.
	offsets := []time.Duration{3, 1, 2, 1, 0}
	ids := make([]int64, len(offsets))
	for i, off := range offsets {
		id, err := s.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "mail", Payload: []byte{byte(i)},
			NextAttempt: now.Add(off * time.Minute)})
		durMust(t, "EnqueueOutbox", err)
		ids[i] = id
	}
	var order []int64
	for range 3 {
		claimed, err := s.ClaimOutbox(ctx, "mail", now.Add(time.Hour), time.Hour, 2)
		durIs(t, "ClaimOutbox", err, nil)
		if len(claimed) > 2 {
			t.Fatalf("ClaimOutbox limit 2 returned %d", len(claimed))
		}
		for _, m := range claimed {
			order = append(order, m.ID)
		}
	}
	durEqual(t, "claim order", order, []int64{ids[4], ids[1], ids[3], ids[2], ids[0]})
	claimed, err := s.ClaimOutbox(ctx, "mail", now.Add(3*time.Hour), time.Hour, 0)
	durIs(t, "ClaimOutbox limit 0", err, nil)
	durEqual(t, "limit 0 claims nothing", len(claimed), 0)
}

func durOutboxPurge(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	enqueue := func() int64 {
		id, err := s.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "mail", Payload: []byte(`{}`)})
		durIs(t, "EnqueueOutbox", err, nil)
		return id
	}
	sent, givenUp, pending, failing := enqueue(), enqueue(), enqueue(), enqueue()
	durIs(t, "MarkOutboxSent", s.MarkOutboxSent(ctx, sent, clk.Now()), nil)
	durIs(t, "give up", s.MarkOutboxFailed(ctx, givenUp, "550 no such user", time.Time{}), nil)
	durIs(t, "retry later", s.MarkOutboxFailed(ctx, failing, "451 try later", clk.Now().Add(time.Hour)), nil)
	clk.Advance(8 * 24 * time.Hour)
	recent := enqueue()
	durIs(t, "MarkOutboxSent recent", s.MarkOutboxSent(ctx, recent, clk.Now()), nil)

	n, err := s.PurgeOutbox(ctx, clk.Now().Add(-7*24*time.Hour))
	durIs(t, "PurgeOutbox", err, nil)
	durEqual(t, "purged", n, int64(2))
	for _, id := range []int64{sent, givenUp} {
		_, err := s.GetOutbox(ctx, id)
		durIs(t, "purged message", err, store.ErrNotFound)
	}
	for _, id := range []int64{pending, failing, recent} {
		_, err := s.GetOutbox(ctx, id)
		durIs(t, "kept message", err, nil)
	}
}

// The backlog counts unsent messages per kind: pending ones (with the
// oldest's creation time, failing ones included) apart from given-up ones;
// sent messages and empty kinds are absent.
func durOutboxBacklog(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	b, err := s.OutboxBacklog(ctx)
	durIs(t, "OutboxBacklog empty", err, nil)
	durEqual(t, "empty backlog", len(b), 0)
	enqueue := func(kind string) int64 {
		id, err := s.EnqueueOutbox(ctx, store.OutboxMessage{Kind: kind, Payload: []byte(`{}`)})
		durIs(t, "EnqueueOutbox", err, nil)
		return id
	}
	first := clk.Now()
	failing := enqueue("mail")
	clk.Advance(time.Minute)
	sent, givenUp := enqueue("mail"), enqueue("mail")
	enqueue("mail")
	enqueue("backchannel_logout")
	durIs(t, "MarkOutboxSent", s.MarkOutboxSent(ctx, sent, clk.Now()), nil)
	durIs(t, "give up", s.MarkOutboxFailed(ctx, givenUp, "550", time.Time{}), nil)
	durIs(t, "retry later", s.MarkOutboxFailed(ctx, failing, "451", clk.Now().Add(time.Hour)), nil)

	b, err = s.OutboxBacklog(ctx)
	durIs(t, "OutboxBacklog", err, nil)
	durEqual(t, "backlog", b, []store.OutboxBacklog{
		{Kind: "backchannel_logout", Pending: 1, Oldest: first.Add(time.Minute).UTC().Truncate(time.Microsecond)},
		{Kind: "mail", Pending: 2, Oldest: first.UTC().Truncate(time.Microsecond), GivenUp: 1},
	})
}
