package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// durWriteAll writes one record of several kinds through s, with IDs ending
// in tag.
func durWriteAll(ctx context.Context, s store.Durable, tag string) error {
	if err := s.CreateUser(ctx, store.User{ID: "u" + tag, Email: tag + "@example.com"}); err != nil {
		return err
	}
	if err := s.CreateOrganization(ctx, store.Organization{ID: "o" + tag, Code: "C" + tag}); err != nil {
		return err
	}
	if err := s.PutMembership(ctx, store.Membership{UserID: "u" + tag, OrgID: "o" + tag, Role: store.RoleNormal}); err != nil {
		return err
	}
	if _, err := s.AppendAudit(ctx, store.AuditEvent{Kind: "tx." + tag, UserID: "u" + tag}); err != nil {
		return err
	}
	if _, err := s.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "tx." + tag, Payload: []byte("{}")}); err != nil {
		return err
	}
	_, err := s.UpdateUser(ctx, "u"+tag, func(u *store.User) error { u.Name = "updated"; return nil })
	return err
}

// durWritten reports whether durWriteAll(tag)'s records exist, failing the
// test when only some do.
func durWritten(t *testing.T, s store.Durable, tag string) bool {
	t.Helper()
	ctx := context.Background()
	var found []bool
	u, err := s.GetUser(ctx, "u"+tag)
	found = append(found, err == nil && u.Name == "updated")
	_, err = s.GetOrganization(ctx, "o"+tag)
	found = append(found, err == nil)
	ms, _ := s.ListMembershipsByUser(ctx, "u"+tag)
	found = append(found, len(ms) == 1)
	events, _ := s.ListAudit(ctx, store.AuditFilter{Kinds: []string{"tx." + tag}})
	found = append(found, len(events) == 1)
	// A zero lease leaves the message claimable for the next look.
	claimed, _ := s.ClaimOutbox(ctx, "tx."+tag, durT0.Add(24*time.Hour), 0, 10)
	found = append(found, len(claimed) == 1)
	for _, f := range found[1:] {
		if f != found[0] {
			t.Fatalf("records of %q half written: %v", tag, found)
		}
	}
	return found[0]
}

func durInTxCommit(t *testing.T, open DurableOpener) {
	s, _ := durOpen(t, open)
	ctx := context.Background()
	err := s.InTx(ctx, func(tx store.Durable) error {
		if err := durWriteAll(ctx, tx, "a"); err != nil {
			return err
		}
		// The transaction reads its own writes.
		u, err := tx.GetUserByEmail(ctx, "A@example.com")
		if err != nil || u.ID != "ua" {
			t.Errorf("read own write: %+v, %v", u, err)
		}
		return nil
	})
	durIs(t, "InTx", err, nil)
	if !durWritten(t, s, "a") {
		t.Fatal("committed writes are missing")
	}
}

func durInTxRollback(t *testing.T, open DurableOpener) {
	s, _ := durOpen(t, open)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Durable) error {
		if err := durWriteAll(ctx, tx, "a"); err != nil {
			return err
		}
		if err := tx.UpdateSigningKeys(ctx, func([]store.SigningKey) (store.KeyChange, error) {
			return store.KeyChange{Put: []store.SigningKey{{ID: "k", Algorithm: "EdDSA", State: store.KeyNext}}}, nil
		}); err != nil {
			return err
		}
		return boom
	})
	durIs(t, "InTx returns fn's error", err, boom)
	if durWritten(t, s, "a") {
		t.Fatal("rolled-back writes are visible")
	}
	keys, _ := s.ListSigningKeys(ctx)
	durEqual(t, "rolled-back keys", len(keys), 0)
	// The store is usable afterwards.
	durIs(t, "write after rollback", durWriteAll(ctx, s, "b"), nil)
}

func durInTxNested(t *testing.T, open DurableOpener) {
	s, _ := durOpen(t, open)
	ctx := context.Background()
	boom := errors.New("boom")

	// A nested InTx joins the outer transaction: when the outer one fails
	// after the inner one succeeded, nothing is written.
	err := s.InTx(ctx, func(tx store.Durable) error {
		if err := tx.InTx(ctx, func(inner store.Durable) error { return durWriteAll(ctx, inner, "a") }); err != nil {
			return err
		}
		return boom
	})
	durIs(t, "outer failure", err, boom)
	if durWritten(t, s, "a") {
		t.Fatal("inner writes survived the outer rollback")
	}

	// Both succeed: everything is written.
	err = s.InTx(ctx, func(tx store.Durable) error {
		if err := durWriteAll(ctx, tx, "b"); err != nil {
			return err
		}
		return tx.InTx(ctx, func(inner store.Durable) error {
			return inner.InTx(ctx, func(inner2 store.Durable) error { return durWriteAll(ctx, inner2, "c") })
		})
	})
	durIs(t, "nested success", err, nil)
	if !durWritten(t, s, "b") || !durWritten(t, s, "c") {
		t.Fatal("nested writes are missing")
	}

	// The inner one fails and the outer one goes on: only the inner
	// writes are undone.
	err = s.InTx(ctx, func(tx store.Durable) error {
		if err := durWriteAll(ctx, tx, "d"); err != nil {
			return err
		}
		innerErr := tx.InTx(ctx, func(inner store.Durable) error {
			if err := durWriteAll(ctx, inner, "e"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(innerErr, boom) {
			t.Errorf("inner InTx: got %v, want boom", innerErr)
		}
		return nil
	})
	durIs(t, "outer after inner failure", err, nil)
	if !durWritten(t, s, "d") {
		t.Fatal("outer writes are missing")
	}
	if durWritten(t, s, "e") {
		t.Fatal("failed inner writes were committed")
	}
}

func durInTxErrorKeepsTx(t *testing.T, open DurableOpener) {
	s, _ := durOpen(t, open)
	ctx := context.Background()
	durMust(t, "seed", s.CreateUser(ctx, store.User{ID: "u1", Email: "taken@example.com"}))

	// An expected error inside the transaction (a duplicate, a missing
	// record, a used token) leaves it usable: the caller may handle it and
	// commit the rest.
	err := s.InTx(ctx, func(tx store.Durable) error {
		if err := tx.CreateUser(ctx, store.User{ID: "u2", Email: "TAKEN@example.com"}); !errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("duplicate in tx: got %v, want ErrAlreadyExists", err)
		}
		if _, err := tx.UpdateUser(ctx, "u1", func(u *store.User) error { u.Email = "x"; return nil }); err != nil {
			return err
		}
		if err := tx.PutMembership(ctx, store.Membership{UserID: "ghost", OrgID: "ghost", Role: store.RoleNormal}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing reference in tx: got %v, want ErrNotFound", err)
		}
		if _, err := tx.ConsumeOneTimeToken(ctx, "nope", store.TokenPasswordReset, durT0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing token in tx: got %v, want ErrNotFound", err)
		}
		return durWriteAll(ctx, tx, "a")
	})
	durIs(t, "InTx after handled errors", err, nil)
	if !durWritten(t, s, "a") {
		t.Fatal("writes after a handled error are missing")
	}
	u, _ := s.GetUser(ctx, "u1")
	durEqual(t, "update after a handled error", u.Email, "x")
	_, err = s.GetUser(ctx, "u2")
	durIs(t, "failed insert", err, store.ErrNotFound)
}
