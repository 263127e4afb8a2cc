package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// ephTally counts errors by the sentinel they match; "nil" for success
// and "other" for anything else (the first of which is kept).
func ephTally(errs []error, sentinels ...error) (map[string]int, error) {
	counts := map[string]int{}
	var other error
	for _, err := range errs {
		if err == nil {
			counts["nil"]++
			continue
		}
		i := slices.IndexFunc(sentinels, func(s error) bool { return errors.Is(err, s) })
		if i < 0 {
			counts["other"]++
			if other == nil {
				other = err
			}
			continue
		}
		counts[sentinels[i].Error()]++
	}
	return counts, other
}

const ephContenders = 200

func ephContentionConsume(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	c := ephCode("code-hot", clock.Now())
	ephIs(t, "create", s.CreateAuthCode(ctx, c), nil)
	errs := Together(ephContenders, func(int) error {
		got, err := s.ConsumeAuthCode(ctx, c.ID)
		if err == nil || errors.Is(err, store.ErrAlreadyUsed) {
			if got.GrantID != c.GrantID || got.ConsumedAt.IsZero() {
				return fmt.Errorf("bad record %+v with %w", got, err)
			}
		}
		return err
	})
	counts, other := ephTally(errs, store.ErrAlreadyUsed)
	if counts["nil"] != 1 || counts[store.ErrAlreadyUsed.Error()] != ephContenders-1 {
		t.Fatalf("%d parallel redemptions: %v (first other error: %v); want exactly one success", ephContenders, counts, other)
	}
}

func ephContentionRotate(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	ephIs(t, "create", s.CreateRefreshToken(ctx, ephToken("rt-hot", "fam", clock.Now())), nil)
	errs := Together(ephContenders, func(i int) error {
		next := ephToken(fmt.Sprintf("rt-next-%d", i), "fam", clock.Now())
		_, err := s.RotateRefreshToken(ctx, "rt-hot", next, 0)
		return err
	})
	counts, other := ephTally(errs, store.ErrAlreadyUsed, store.ErrRevoked)
	if counts["nil"] != 1 || counts["other"] != 0 || counts[store.ErrAlreadyUsed.Error()] < 1 {
		t.Fatalf("%d parallel rotations: %v (first other error: %v); want exactly one success, the rest reuse or revoked", ephContenders, counts, other)
	}
	// The losers' reuse revoked the family, the winner's token included.
	revoked, err := s.IsFamilyRevoked(ctx, "fam")
	ephIs(t, "is family revoked", err, nil)
	ephEqual(t, "family revoked", revoked, true)
	winner := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	ephGetToken(t, s, "fam", fmt.Sprintf("rt-next-%d", winner), store.ErrRevoked)
}

// ephContentionRotateClockSkew: like ephContentionRotate, but each
// contender's clock reading is earlier than the one before it, as when
// goroutines (or replicas) read the time in one order and reach the store
// in another. Exactly one rotation still wins.
func ephContentionRotateClockSkew(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	ephIs(t, "create", s.CreateRefreshToken(ctx, ephToken("rt-hot", "fam", clock.Now())), nil)
	const n = 50
	errs := Together(n, func(i int) error {
		next := ephToken(fmt.Sprintf("rt-next-%d", i), "fam", clock.Now())
		clock.Advance(-time.Millisecond)
		_, err := s.RotateRefreshToken(ctx, "rt-hot", next, 0)
		return err
	})
	counts, other := ephTally(errs, store.ErrAlreadyUsed, store.ErrRevoked)
	if counts["nil"] != 1 || counts["other"] != 0 {
		t.Fatalf("%d parallel rotations with skewed clocks: %v (first other error: %v); want exactly one success", n, counts, other)
	}
}

// ephContentionGrace: parallel retries of one token within grace (a
// client resending after timeouts) all succeed, and exactly one successor
// survives: the one the old token names; of the access tokens issued with
// the successors (their AccessID), only the survivor's is not revoked.
func ephContentionGrace(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	const n = 50
	ephIs(t, "create", s.CreateRefreshToken(ctx, ephToken("rt-hot", "fam", clock.Now())), nil)
	befores := make([]store.RefreshToken, n)
	errs := Together(n, func(i int) error {
		next := ephToken(fmt.Sprintf("rt-next-%d", i), "fam", clock.Now())
		var err error
		befores[i], err = s.RotateRefreshToken(ctx, "rt-hot", next, time.Minute)
		return err
	})
	counts, other := ephTally(errs)
	if counts["nil"] != n {
		t.Fatalf("%d parallel retries within grace: %v (first error: %v); want all to succeed", n, counts, other)
	}
	old := ephGetToken(t, s, "fam", "rt-hot", nil)
	live := 0
	for i := range n {
		id := fmt.Sprintf("rt-next-%d", i)
		_, err := s.GetRefreshToken(ctx, "fam", id)
		switch {
		case err == nil:
			live++
			if id != old.ReplacedBy {
				t.Errorf("live successor %s is not the one the old token names (%s)", id, old.ReplacedBy)
			}
		case !errors.Is(err, store.ErrNotFound):
			t.Fatalf("get %s: %v", id, err)
		}
	}
	ephEqual(t, "live successors", live, 1)
	var unrevoked []string
	for i := range n {
		id := fmt.Sprintf("rt-next-%d", i)
		revoked, err := s.IsTokenRevoked(ctx, ephToken(id, "fam", clock.Now()).AccessID)
		ephIs(t, "is token revoked", err, nil)
		if !revoked {
			unrevoked = append(unrevoked, id)
		}
	}
	ephEqual(t, "successors whose access token is not revoked", unrevoked, []string{old.ReplacedBy})
	// Each retry names the successor it replaced, so the caller can void
	// what it issued: one first rotation, and every successor but the
	// live one replaced exactly once.
	first, replaced := 0, map[string]int{}
	for _, b := range befores {
		if b.RotatedAt.IsZero() {
			first++
			continue
		}
		replaced[b.ReplacedBy]++
	}
	ephEqual(t, "first rotations", first, 1)
	for i := range n {
		id := fmt.Sprintf("rt-next-%d", i)
		want := 1
		if id == old.ReplacedBy {
			want = 0
		}
		if replaced[id] != want {
			t.Errorf("successor %s named as replaced %d times, want %d", id, replaced[id], want)
		}
	}
}

func ephContentionCounter(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, _ := ephOpen(t, open)
	var mu sync.Mutex
	seen := map[int64]bool{}
	errs := Together(ephContenders, func(int) error {
		n, _, err := s.HitCounter(ctx, "hot", time.Minute)
		mu.Lock()
		defer mu.Unlock()
		if seen[n] {
			return fmt.Errorf("count %d returned twice", n)
		}
		seen[n] = true
		return err
	})
	counts, other := ephTally(errs)
	if counts["nil"] != ephContenders {
		t.Fatalf("parallel hits: %v (first error: %v)", counts, other)
	}
	n, _, err := s.GetCounter(ctx, "hot")
	ephIs(t, "get counter", err, nil)
	ephEqual(t, "count", n, int64(ephContenders))
}

func ephContentionTOTP(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	exp := clock.Now().Add(90 * time.Second)
	errs := Together(ephContenders, func(int) error {
		return s.UseTOTPStep(ctx, "user-1", 4242, exp)
	})
	counts, other := ephTally(errs, store.ErrAlreadyUsed)
	if counts["nil"] != 1 || counts[store.ErrAlreadyUsed.Error()] != ephContenders-1 {
		t.Fatalf("%d parallel uses of one step: %v (first other error: %v); want exactly one success", ephContenders, counts, other)
	}
	// Contenders with steps around the recorded one: whatever the order,
	// the last used step only grows, so of the later steps each is
	// accepted at most once and no earlier one is.
	errs = Together(ephContenders, func(i int) error {
		return s.UseTOTPStep(ctx, "user-1", 4240+int64(i%5), exp)
	})
	counts, other = ephTally(errs, store.ErrAlreadyUsed)
	if counts["nil"] < 1 || counts["nil"] > 2 || other != nil {
		t.Fatalf("steps 4240..4244 after 4242: %v (first other error: %v); want one or two successes (4243, 4244)", counts, other)
	}
	ephIs(t, "after the race", s.UseTOTPStep(ctx, "user-1", 4244, exp), store.ErrAlreadyUsed)
}

func ephContentionUpdateSession(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	const n = 50
	x := ephSession("sess-hot", "user-1", clock.Now())
	x.Clients = nil
	ephIs(t, "create", s.CreateSession(ctx, x), nil)
	errs := Together(n, func(i int) error {
		_, err := s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
			x.Clients = append(x.Clients, fmt.Sprintf("client-%02d", i))
			return nil
		})
		return err
	})
	counts, other := ephTally(errs)
	if counts["nil"] != n {
		t.Fatalf("parallel updates: %v (first error: %v)", counts, other)
	}
	got, err := s.GetSession(ctx, x.ID)
	ephIs(t, "get", err, nil)
	slices.Sort(got.Clients)
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("client-%02d", i)
	}
	ephEqual(t, "clients after parallel appends (a lost update drops one)", got.Clients, want)
}

func ephContentionUpdateAuthRequest(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	const n = 50
	r := ephAuthRequestRecord("ar-hot", clock.Now())
	r.AMR = nil
	ephIs(t, "create", s.CreateAuthRequest(ctx, r), nil)
	errs := Together(n, func(i int) error {
		_, err := s.UpdateAuthRequest(ctx, r.ID, func(r *store.AuthRequest) error {
			r.AMR = append(r.AMR, fmt.Sprintf("m-%02d", i))
			return nil
		})
		return err
	})
	counts, other := ephTally(errs)
	if counts["nil"] != n {
		t.Fatalf("parallel updates: %v (first error: %v)", counts, other)
	}
	got, err := s.GetAuthRequest(ctx, r.ID)
	ephIs(t, "get", err, nil)
	ephEqual(t, "AMR entries after parallel appends", len(got.AMR), n)
}
