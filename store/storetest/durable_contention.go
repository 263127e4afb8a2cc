package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// Together runs fn(i) for i in [0, n) on n goroutines released at once,
// and returns their errors.
func Together(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// durWarm opens the store's pooled connections with a burst of reads, so
// that a race that follows starts on open connections, not on the first
// one while the others are still dialing.
func durWarm(s store.Durable, n int) {
	Together(n, func(int) error { _, err := s.ListSigningKeys(context.Background()); return err })
}

// durCount counts nil errors and errors that are want; any other error
// fails the test.
func durCount(t *testing.T, what string, errs []error, want error) (ok, matched int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, want):
			matched++
		default:
			t.Fatalf("%s: unexpected error: %v", what, err)
		}
	}
	return ok, matched
}

func durContentionConsumeToken(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 1)
	durMust(t, "CreateOneTimeToken", s.CreateOneTimeToken(ctx, store.OneTimeToken{
		Hash: "hot", Kind: store.TokenPasswordReset, UserID: "u1", ExpiresAt: now.Add(time.Hour)}))
	const n = 200
	durWarm(s, n)
	errs := Together(n, func(i int) error {
		_, err := s.ConsumeOneTimeToken(ctx, "hot", store.TokenPasswordReset, now.Add(time.Duration(i)*time.Microsecond))
		return err
	})
	ok, used := durCount(t, "ConsumeOneTimeToken", errs, store.ErrAlreadyUsed)
	if ok != 1 || used != n-1 {
		t.Fatalf("%d concurrent consumptions: %d succeeded, %d ErrAlreadyUsed; want 1 and %d", n, ok, used, n-1)
	}
}

func durContentionRecoveryCode(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 1)
	durMust(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, "u1", []string{"a", "hot", "z"}))
	const n = 200
	durWarm(s, n)
	errs := Together(n, func(int) error { return s.UseRecoveryCode(ctx, "u1", "hot", now) })
	ok, used := durCount(t, "UseRecoveryCode", errs, store.ErrAlreadyUsed)
	if ok != 1 || used != n-1 {
		t.Fatalf("%d concurrent uses: %d succeeded, %d ErrAlreadyUsed; want 1 and %d", n, ok, used, n-1)
	}
	codes, _ := s.ListRecoveryCodes(ctx, "u1")
	unused := 0
	for _, c := range codes {
		if c.UsedAt.IsZero() {
			unused++
		}
	}
	durEqual(t, "other codes unused", unused, 2)
}

func durContentionAcceptInvitation(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "CreateInvitation", s.CreateInvitation(ctx, store.Invitation{
		ID: "inv", OrgID: "o1", Email: "a@example.com", Role: store.RoleNormal, ExpiresAt: now.Add(time.Hour)}))
	const n = 50
	durWarm(s, n)
	errs := Together(n, func(int) error { _, err := s.AcceptInvitation(ctx, "inv", "", now); return err })
	ok, used := durCount(t, "AcceptInvitation", errs, store.ErrAlreadyUsed)
	if ok != 1 || used != n-1 {
		t.Fatalf("%d concurrent accepts: %d succeeded, %d ErrAlreadyUsed; want 1 and %d", n, ok, used, n-1)
	}
}

// Each writer adds a "next" key only if there is none: under the key lock
// exactly one does.
func durContentionSigningKeys(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	// No key to start with: nothing for a row lock to hold, so only the
	// key lock can serialize the writers.
	const n = 50
	durWarm(s, n)
	var mu sync.Mutex
	added := 0
	errs := Together(n, func(i int) error {
		return s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) (store.KeyChange, error) {
			next := 0
			for _, k := range keys {
				if k.State == store.KeyNext {
					next++
				}
			}
			if next >= 1 {
				return store.KeyChange{}, nil
			}
			mu.Lock()
			added++
			mu.Unlock()
			return store.KeyChange{Put: []store.SigningKey{{ID: fmt.Sprintf("next-%d", i), Algorithm: "RS256",
				State: store.KeyNext, Sealed: []byte{byte(i)}, CreatedAt: now.Add(time.Second)}}}, nil
		})
	})
	ok, _ := durCount(t, "UpdateSigningKeys", errs, nil)
	durEqual(t, "UpdateSigningKeys successes", ok, n)
	keys, err := s.ListSigningKeys(ctx)
	durIs(t, "ListSigningKeys", err, nil)
	next := 0
	for _, k := range keys {
		if k.State == store.KeyNext {
			next++
		}
	}
	if next != 1 || len(keys) != 1 {
		t.Fatalf("after %d concurrent rotations: %d keys, %d next; want 1 next key", n, len(keys), next)
	}
	// Serialized closures: the one that added also saw none, and was the
	// only one (a closure re-run after a conflict would count twice).
	durEqual(t, "closures that added a key", added, 1)
}

// Workers claim in small batches until the queue is empty: no message is
// claimed twice, none is missed.
func durContentionClaimOutbox(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	const messages, workers = 200, 4
	durMust(t, "EnqueueOutbox", s.InTx(ctx, func(tx store.Durable) error {
		for i := range messages {
			if _, err := tx.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "mail", Payload: []byte(fmt.Sprint(i))}); err != nil {
				return err
			}
		}
		_, err := tx.EnqueueOutbox(ctx, store.OutboxMessage{Kind: "other", Payload: []byte("x")})
		return err
	}))

	durWarm(s, 2*workers)
	claims := make([][]int64, workers)
	errs := Together(workers, func(w int) error {
		for range messages { // bounded: each round claims at least one or stops
			batch, err := s.ClaimOutbox(ctx, "mail", now, time.Hour, 7)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				return nil
			}
			if len(batch) > 7 {
				return fmt.Errorf("ClaimOutbox limit 7 returned %d", len(batch))
			}
			for _, m := range batch {
				if m.Kind != "mail" || !m.LeaseUntil.Equal(now.Add(time.Hour)) {
					return fmt.Errorf("claimed %+v", m)
				}
				claims[w] = append(claims[w], m.ID)
			}
		}
		return errors.New("worker did not drain the queue")
	})
	durCount(t, "ClaimOutbox", errs, nil)
	seen := map[int64]int{}
	for w, ids := range claims {
		for _, id := range ids {
			if prev, dup := seen[id]; dup {
				t.Fatalf("message %d claimed by workers %d and %d", id, prev, w)
			}
			seen[id] = w
		}
	}
	durEqual(t, "messages claimed", len(seen), messages)
}

// Concurrent read-modify-write closures lose no update.
func durContentionUpdateUser(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	durMust(t, "CreateUser", s.CreateUser(ctx, store.User{ID: "u1", Email: "u1@example.com", CreatedAt: clk.Now()}))
	const n = 50
	durWarm(s, n)
	errs := Together(n, func(int) error {
		_, err := s.UpdateUser(ctx, "u1", func(u *store.User) error { u.Name += "x"; return nil })
		return err
	})
	durCount(t, "UpdateUser", errs, nil)
	u, err := s.GetUser(ctx, "u1")
	durIs(t, "GetUser", err, nil)
	durEqual(t, "updates applied", u.Name, strings.Repeat("x", n))
}
