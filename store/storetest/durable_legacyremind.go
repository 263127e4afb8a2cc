package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/customerhub/hubid/store"
)

// durLegacyReminders: only login IDs with a hash and a contact address,
// enabled, not linked and not reminded are due; marking one works once,
// however many replicas try at the same time.
func durLegacyReminders(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 1)
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	for _, v := range []string{"s1", "s2"} {
		durMust(t, "svc", s.CreateService(ctx, durService(v, now)))
	}
	for _, l := range []store.LegacyLoginID{
		{LoginID: "DUE-2", ServiceID: "s1", OrgID: "o1", PasswordHash: "h", ContactEmail: "a@example.com"},
		{LoginID: "DUE-1", ServiceID: "s2", OrgID: "o1", PasswordHash: "h", ContactEmail: "b@example.com"},
		{LoginID: "DUE-1", ServiceID: "s1", OrgID: "o1", PasswordHash: "h", ContactEmail: "c@example.com"},
		{LoginID: "NO-CONTACT", ServiceID: "s1", OrgID: "o1", PasswordHash: "h"},
		{LoginID: "NO-HASH", ServiceID: "s1", OrgID: "o1", ContactEmail: "d@example.com"},
		{LoginID: "DISABLED", ServiceID: "s1", OrgID: "o1", PasswordHash: "h", ContactEmail: "e@example.com", Disabled: true},
		{LoginID: "LINKED", ServiceID: "s1", OrgID: "o1", PasswordHash: "h", ContactEmail: "f@example.com"},
	} {
		durMust(t, "id "+l.LoginID, s.CreateLegacyLoginID(ctx, l))
	}
	durMust(t, "link", s.CreateLegacyLink(ctx, store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "LINKED"}))
	due, err := s.ListLegacyReminders(ctx, 100)
	durIs(t, "ListLegacyReminders", err, nil)
	durEqual(t, "due", due, []store.LegacyReminder{
		{ServiceID: "s1", ServiceCode: "svc-s1", ServiceName: "Service s1", LoginID: "DUE-1", OrgID: "o1", OrgCode: "C-o1", OrgName: "Org o1", ContactEmail: "c@example.com"},
		{ServiceID: "s1", ServiceCode: "svc-s1", ServiceName: "Service s1", LoginID: "DUE-2", OrgID: "o1", OrgCode: "C-o1", OrgName: "Org o1", ContactEmail: "a@example.com"},
		{ServiceID: "s2", ServiceCode: "svc-s2", ServiceName: "Service s2", LoginID: "DUE-1", OrgID: "o1", OrgCode: "C-o1", OrgName: "Org o1", ContactEmail: "b@example.com"},
	})
	due, _ = s.ListLegacyReminders(ctx, 1)
	durEqual(t, "limit", len(due), 1)

	errs := Together(20, func(int) error { return s.MarkLegacyReminded(ctx, "s1", "DUE-1", now) })
	ok, used := durCount(t, "mark", errs, store.ErrAlreadyUsed)
	durEqual(t, "marked once", [2]int{ok, used}, [2]int{1, 19})
	durIs(t, "mark missing", s.MarkLegacyReminded(ctx, "s1", "GHOST", now), store.ErrNotFound)
	due, _ = s.ListLegacyReminders(ctx, 100)
	durEqual(t, "due after marking", len(due), 2)
	// Marking inside a transaction that rolls back leaves it due.
	_ = s.InTx(ctx, func(tx store.Durable) error {
		durMust(t, "mark in tx", tx.MarkLegacyReminded(ctx, "s1", "DUE-2", now))
		return errors.New("roll back")
	})
	due, _ = s.ListLegacyReminders(ctx, 100)
	durEqual(t, "due after a rolled-back mark", len(due), 2)
}
