package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

func ephCode(id string, now time.Time) store.AuthCode {
	return store.AuthCode{
		ID:            id,
		AuthRequestID: "ar-1",
		ClientID:      "portal",
		GrantID:       "grant-" + id,
		CreatedAt:     now,
		ExpiresAt:     now.Add(time.Minute),
	}
}

func ephAuthCode(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	c := ephCode("code-1", clock.Now())
	_, err := s.ConsumeAuthCode(ctx, c.ID)
	ephIs(t, "consume unknown", err, store.ErrNotFound)
	ephIs(t, "create", s.CreateAuthCode(ctx, c), nil)
	ephIs(t, "create clash", s.CreateAuthCode(ctx, c), store.ErrAlreadyExists)

	clock.Advance(5 * time.Second)
	first := clock.Now()
	got, err := s.ConsumeAuthCode(ctx, c.ID)
	ephIs(t, "consume", err, nil)
	want := c
	want.ConsumedAt = first
	ephEqual(t, "consumed", got, want)

	// A replay gets the record (to revoke its grant) and ErrAlreadyUsed.
	clock.Advance(5 * time.Second)
	got, err = s.ConsumeAuthCode(ctx, c.ID)
	ephIs(t, "replay", err, store.ErrAlreadyUsed)
	ephEqual(t, "replayed record", got, want)
	_, err = s.ConsumeAuthCode(ctx, c.ID)
	ephIs(t, "second replay", err, store.ErrAlreadyUsed)
	ephIs(t, "create over consumed", s.CreateAuthCode(ctx, c), store.ErrAlreadyExists)
}

func ephAuthCodeExpiry(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	c := ephCode("code-e", clock.Now())
	ephIs(t, "create", s.CreateAuthCode(ctx, c), nil)
	clock.Advance(time.Minute)
	_, err := s.ConsumeAuthCode(ctx, c.ID)
	ephIs(t, "consume expired", err, store.ErrNotFound)

	c2 := ephCode(c.ID, clock.Now())
	ephIs(t, "create over expired", s.CreateAuthCode(ctx, c2), nil)
	_, err = s.ConsumeAuthCode(ctx, c2.ID)
	ephIs(t, "consume recreated", err, nil)
	clock.Advance(time.Minute)
	_, err = s.ConsumeAuthCode(ctx, c2.ID)
	ephIs(t, "replay after expiry", err, store.ErrNotFound)

	c3 := ephCode("code-e3", clock.Now())
	c3.ExpiresAt = clock.Now()
	ephIs(t, "create expired", s.CreateAuthCode(ctx, c3), nil)
	_, err = s.ConsumeAuthCode(ctx, c3.ID)
	ephIs(t, "consume created expired", err, store.ErrNotFound)
}

func ephToken(id, family string, now time.Time) store.RefreshToken {
	return store.RefreshToken{
		ID:              id,
		FamilyID:        family,
		UserID:          "user-1",
		ClientID:        "portal",
		SessionID:       "sess-1",
		Scopes:          []string{"openid", "offline_access"},
		Audience:        []string{"portal"},
		AMR:             []string{"pwd"},
		AuthTime:        now,
		OrgID:           "org-1",
		Offline:         true,
		FamilyCreatedAt: now,
		CreatedAt:       now,
		ExpiresAt:       now.Add(14 * 24 * time.Hour),
		AccessID:        "at:" + id,
		AccessExpiresAt: now.Add(10 * time.Minute),
	}
}

// ephGetToken checks GetRefreshToken's error and returns the record.
func ephGetToken(t *testing.T, s store.Ephemeral, family, id string, want error) store.RefreshToken {
	t.Helper()
	got, err := s.GetRefreshToken(context.Background(), family, id)
	ephIs(t, "get refresh token "+id, err, want)
	return got
}

func ephRefreshCreateGet(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	tok := ephToken("rt-1", "fam-1", clock.Now())
	ephGetToken(t, s, "fam-1", tok.ID, store.ErrNotFound)
	ephIs(t, "create", s.CreateRefreshToken(ctx, tok), nil)
	ephIs(t, "create clash", s.CreateRefreshToken(ctx, tok), store.ErrAlreadyExists)
	ephEqual(t, "get", ephGetToken(t, s, "fam-1", tok.ID, nil), tok)
	ephGetToken(t, s, "fam-2", tok.ID, store.ErrNotFound) // the family is part of the lookup
	revoked, err := s.IsFamilyRevoked(ctx, tok.FamilyID)
	ephIs(t, "is family revoked", err, nil)
	ephEqual(t, "family revoked", revoked, false)
	if err := s.CreateRefreshToken(ctx, ephToken("rt-nofam", "", clock.Now())); err == nil {
		t.Fatal("create without FamilyID: no error")
	}

	short := ephToken("rt-short", "fam-1", clock.Now())
	short.ExpiresAt = clock.Now().Add(time.Hour)
	ephIs(t, "create short", s.CreateRefreshToken(ctx, short), nil)
	clock.Advance(time.Hour)
	ephGetToken(t, s, "fam-1", short.ID, store.ErrNotFound)
	_, err = s.RotateRefreshToken(ctx, short.ID, ephToken("rt-x", "fam-1", clock.Now()), 0)
	ephIs(t, "rotate expired", err, store.ErrNotFound)
	ephGetToken(t, s, "fam-1", "rt-x", store.ErrNotFound)
	ephGetToken(t, s, "fam-1", tok.ID, nil)

	dead := ephToken("rt-dead", "fam-1", clock.Now())
	dead.ExpiresAt = clock.Now()
	ephIs(t, "create expired", s.CreateRefreshToken(ctx, dead), nil)
	ephGetToken(t, s, "fam-1", dead.ID, store.ErrNotFound)
}

func ephRefreshRotateChain(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	t1 := ephToken("rt-1", "fam", clock.Now())
	ephIs(t, "create", s.CreateRefreshToken(ctx, t1), nil)
	prev := t1
	for _, id := range []string{"rt-2", "rt-3", "rt-4"} {
		clock.Advance(time.Hour)
		now := clock.Now()
		next := ephToken(id, "fam", now)
		old, err := s.RotateRefreshToken(ctx, prev.ID, next, 0)
		ephIs(t, "rotate "+prev.ID, err, nil)
		ephEqual(t, "record before the rotation", old, prev)
		want := prev
		want.RotatedAt, want.ReplacedBy = now, id
		ephEqual(t, "stored rotated record", ephGetToken(t, s, "fam", prev.ID, nil), want)
		ephEqual(t, "successor", ephGetToken(t, s, "fam", id, nil), next)
		prev = next
	}
	revoked, err := s.IsFamilyRevoked(ctx, "fam")
	ephIs(t, "is family revoked", err, nil)
	ephEqual(t, "family revoked after clean rotations", revoked, false)
}

func ephRefreshRotateErrors(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	now := clock.Now()
	t1 := ephToken("rt-1", "fam", now)
	other := ephToken("rt-o", "fam", now)
	ephIs(t, "create", s.CreateRefreshToken(ctx, t1), nil)
	ephIs(t, "create other", s.CreateRefreshToken(ctx, other), nil)

	_, err := s.RotateRefreshToken(ctx, "nope", ephToken("rt-2", "fam", now), 0)
	ephIs(t, "rotate unknown", err, store.ErrNotFound)
	_, err = s.RotateRefreshToken(ctx, t1.ID, ephToken("rt-2", "fam-other", now), 0)
	ephIs(t, "rotate into another family", err, store.ErrNotFound)
	if _, err := s.RotateRefreshToken(ctx, t1.ID, ephToken("rt-2", "", now), 0); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rotate without a family: %v, want a usage error", err)
	}
	expired := ephToken("rt-2", "fam", now)
	expired.ExpiresAt = now
	if _, err := s.RotateRefreshToken(ctx, t1.ID, expired, 0); err == nil {
		t.Fatal("rotate to an expired successor: no error")
	}
	_, err = s.RotateRefreshToken(ctx, t1.ID, ephToken(other.ID, "fam", now), 0)
	ephIs(t, "rotate to a taken ID", err, store.ErrAlreadyExists)
	ephEqual(t, "old token after failed rotations", ephGetToken(t, s, "fam", t1.ID, nil), t1)
	ephEqual(t, "other token after failed rotations", ephGetToken(t, s, "fam", other.ID, nil), other)
	ephGetToken(t, s, "fam", "rt-2", store.ErrNotFound)
	_, err = s.RotateRefreshToken(ctx, t1.ID, ephToken("rt-2", "fam", now), 0)
	ephIs(t, "rotate after failures", err, nil)
}

func ephRefreshGraceRetry(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	const grace = 30 * time.Second
	t1 := ephToken("rt-1", "fam", clock.Now())
	ephIs(t, "create", s.CreateRefreshToken(ctx, t1), nil)
	rotated := clock.Now()
	_, err := s.RotateRefreshToken(ctx, t1.ID, ephToken("rt-2a", "fam", clock.Now()), grace)
	ephIs(t, "rotate", err, nil)

	// The response was lost; the client retries with the same token.
	clock.Advance(grace - time.Second)
	retry := ephToken("rt-2b", "fam", clock.Now())
	old, err := s.RotateRefreshToken(ctx, t1.ID, retry, grace)
	ephIs(t, "retry within grace", err, nil)
	want := t1
	want.RotatedAt, want.ReplacedBy = rotated, "rt-2a"
	ephEqual(t, "old record before the retry (names the replaced successor)", old, want)
	want.ReplacedBy = retry.ID
	ephEqual(t, "stored old record", ephGetToken(t, s, "fam", t1.ID, nil), want)
	ephGetToken(t, s, "fam", "rt-2a", store.ErrNotFound) // replaced
	ephEqual(t, "new successor", ephGetToken(t, s, "fam", retry.ID, nil), retry)
	// The access token issued with the replaced successor is revoked;
	// the new successor's and the old token's are not.
	for id, want := range map[string]bool{"at:rt-2a": true, retry.AccessID: false, t1.AccessID: false} {
		revoked, err := s.IsTokenRevoked(ctx, id)
		ephIs(t, "is token revoked", err, nil)
		ephEqual(t, "access token "+id+" revoked", revoked, want)
	}
	revoked, err := s.IsFamilyRevoked(ctx, "fam")
	ephIs(t, "is family revoked", err, nil)
	ephEqual(t, "family revoked after a retry", revoked, false)

	// Once grace has passed (counted from the first rotation), a retry is
	// reuse.
	clock.Advance(time.Second)
	_, err = s.RotateRefreshToken(ctx, t1.ID, ephToken("rt-2c", "fam", clock.Now()), grace)
	ephIs(t, "retry after grace", err, store.ErrAlreadyUsed)
	ephGetToken(t, s, "fam", retry.ID, store.ErrRevoked)
	ephGetToken(t, s, "fam", "rt-2c", store.ErrNotFound)
}

func ephRefreshGraceSuccessorUsed(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	const grace = time.Minute
	ephIs(t, "create", s.CreateRefreshToken(ctx, ephToken("rt-1", "fam", clock.Now())), nil)
	_, err := s.RotateRefreshToken(ctx, "rt-1", ephToken("rt-2", "fam", clock.Now()), grace)
	ephIs(t, "rotate 1", err, nil)
	clock.Advance(time.Second)
	_, err = s.RotateRefreshToken(ctx, "rt-2", ephToken("rt-3", "fam", clock.Now()), grace)
	ephIs(t, "rotate 2", err, nil)
	// rt-2 was used, so a "retry" with rt-1 is reuse even within grace.
	_, err = s.RotateRefreshToken(ctx, "rt-1", ephToken("rt-2x", "fam", clock.Now()), grace)
	ephIs(t, "retry after successor was used", err, store.ErrAlreadyUsed)
	for _, id := range []string{"rt-1", "rt-2", "rt-3"} {
		ephGetToken(t, s, "fam", id, store.ErrRevoked)
	}
	_, err = s.RotateRefreshToken(ctx, "rt-3", ephToken("rt-4", "fam", clock.Now()), grace)
	ephIs(t, "rotate current token of revoked family", err, store.ErrRevoked)
}

func ephRefreshReuse(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	const grace = 10 * time.Second
	ephIs(t, "create", s.CreateRefreshToken(ctx, ephToken("rt-1", "fam", clock.Now())), nil)
	ephIs(t, "create bystander", s.CreateRefreshToken(ctx, ephToken("rt-b", "fam-b", clock.Now())), nil)
	_, err := s.RotateRefreshToken(ctx, "rt-1", ephToken("rt-2", "fam", clock.Now()), grace)
	ephIs(t, "rotate", err, nil)
	clock.Advance(grace)

	old, err := s.RotateRefreshToken(ctx, "rt-1", ephToken("rt-x", "fam", clock.Now()), grace)
	ephIs(t, "reuse", err, store.ErrAlreadyUsed)
	ephEqual(t, "reused record's ID", old.ID, "rt-1")
	ephEqual(t, "reused record's successor", old.ReplacedBy, "rt-2")
	ephGetToken(t, s, "fam", "rt-x", store.ErrNotFound)
	ephGetToken(t, s, "fam", "rt-1", store.ErrRevoked)
	ephGetToken(t, s, "fam", "rt-2", store.ErrRevoked)
	_, err = s.RotateRefreshToken(ctx, "rt-1", ephToken("rt-y", "fam", clock.Now()), grace)
	ephIs(t, "rotate old after revocation", err, store.ErrRevoked)
	_, err = s.RotateRefreshToken(ctx, "rt-2", ephToken("rt-z", "fam", clock.Now()), grace)
	ephIs(t, "rotate new after revocation", err, store.ErrRevoked)
	revoked, err := s.IsFamilyRevoked(ctx, "fam")
	ephIs(t, "is family revoked", err, nil)
	ephEqual(t, "family revoked", revoked, true)
	ephGetToken(t, s, "fam-b", "rt-b", nil)
	revoked, err = s.IsFamilyRevoked(ctx, "fam-b")
	ephIs(t, "is bystander revoked", err, nil)
	ephEqual(t, "bystander family revoked", revoked, false)

	// The revocation outlives every token of the family.
	clock.Advance(14*24*time.Hour - grace - time.Second)
	ephGetToken(t, s, "fam", "rt-2", store.ErrRevoked)
}

func ephRefreshRevokeFamily(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	tok := ephToken("rt-1", "fam", clock.Now())
	tok.ExpiresAt = clock.Now().Add(time.Hour)
	ephIs(t, "create", s.CreateRefreshToken(ctx, tok), nil)
	ephIs(t, "create bystander", s.CreateRefreshToken(ctx, ephToken("rt-b", "fam-b", clock.Now())), nil)
	revoked, err := s.IsFamilyRevoked(ctx, "unknown")
	ephIs(t, "is unknown family revoked", err, nil)
	ephEqual(t, "unknown family revoked", revoked, false)

	// Revoked "until" a time before the token's expiry: still revoked
	// while the token lives.
	ephIs(t, "revoke family", s.RevokeFamily(ctx, "fam", clock.Now().Add(time.Minute)), nil)
	got := ephGetToken(t, s, "fam", tok.ID, store.ErrRevoked)
	ephEqual(t, "record returned with ErrRevoked", got.ID, tok.ID)
	_, err = s.RotateRefreshToken(ctx, tok.ID, ephToken("rt-2", "fam", clock.Now()), time.Minute)
	ephIs(t, "rotate revoked", err, store.ErrRevoked)
	clock.Advance(30 * time.Minute)
	ephGetToken(t, s, "fam", tok.ID, store.ErrRevoked)
	revoked, err = s.IsFamilyRevoked(ctx, "fam")
	ephIs(t, "is family revoked", err, nil)
	ephEqual(t, "family revoked", revoked, true)
	ephGetToken(t, s, "fam-b", "rt-b", nil)
	ephIs(t, "revoke again", s.RevokeFamily(ctx, "fam", clock.Now()), nil)
	clock.Advance(30 * time.Minute)
	ephGetToken(t, s, "fam", tok.ID, store.ErrNotFound)

	// A family can be revoked before any of its tokens is known here.
	ephIs(t, "revoke unseen family", s.RevokeFamily(ctx, "fam-new", clock.Now().Add(time.Hour)), nil)
	ephIs(t, "create in revoked family", s.CreateRefreshToken(ctx, ephToken("rt-n", "fam-new", clock.Now())), nil)
	ephGetToken(t, s, "fam-new", "rt-n", store.ErrRevoked)
	ephIs(t, "revoke in the past", s.RevokeFamily(ctx, "fam-past", clock.Now()), nil)
	revoked, err = s.IsFamilyRevoked(ctx, "fam-past")
	ephIs(t, "is past family revoked", err, nil)
	ephEqual(t, "family revoked in the past", revoked, false)
}

func ephRevokedTokens(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	is := func(id string, want bool) {
		t.Helper()
		got, err := s.IsTokenRevoked(ctx, id)
		ephIs(t, "is token revoked", err, nil)
		ephEqual(t, "revoked "+id, got, want)
	}
	is("jti-1", false)
	ephIs(t, "revoke", s.RevokeToken(ctx, "jti-1", clock.Now().Add(time.Minute)), nil)
	is("jti-1", true)
	is("jti-2", false)
	// Several IDs at once: revoked when any of them is.
	for _, tc := range []struct {
		ids  []string
		want bool
	}{{[]string{"jti-2", "jti-1"}, true}, {[]string{"jti-1", "jti-2"}, true}, {[]string{"jti-2", "jti-3"}, false}, {nil, false}} {
		got, err := s.IsTokenRevoked(ctx, tc.ids...)
		ephIs(t, "is any revoked", err, nil)
		ephEqual(t, fmt.Sprintf("revoked any of %v", tc.ids), got, tc.want)
	}
	// A shorter expiry does not shorten the revocation.
	ephIs(t, "revoke shorter", s.RevokeToken(ctx, "jti-1", clock.Now().Add(time.Second)), nil)
	clock.Advance(30 * time.Second)
	is("jti-1", true)
	ephIs(t, "revoke longer", s.RevokeToken(ctx, "jti-1", clock.Now().Add(time.Hour)), nil)
	clock.Advance(59 * time.Minute)
	is("jti-1", true)
	clock.Advance(time.Minute)
	is("jti-1", false)
	ephIs(t, "revoke expired", s.RevokeToken(ctx, "jti-3", clock.Now()), nil)
	is("jti-3", false)
}

func ephCounters(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	const window = 5 * time.Minute
	start := clock.Now()
	get := func(key string, wantN int64, wantEnd time.Time) {
		t.Helper()
		n, end, err := s.GetCounter(ctx, key)
		ephIs(t, "get counter", err, nil)
		if n != wantN || !end.Equal(wantEnd) {
			t.Fatalf("GetCounter(%s) = %d, %v; want %d, %v", key, n, end, wantN, wantEnd)
		}
	}
	get("login:a", 0, time.Time{})
	for i := int64(1); i <= 3; i++ {
		n, end, err := s.HitCounter(ctx, "login:a", window)
		ephIs(t, "hit", err, nil)
		if n != i || !end.Equal(start.Add(window)) {
			t.Fatalf("hit %d = %d, %v; want %d, %v", i, n, end, i, start.Add(window))
		}
		clock.Advance(time.Second)
	}
	get("login:a", 3, start.Add(window))
	get("login:b", 0, time.Time{})
	n, _, err := s.HitCounter(ctx, "login:b", window)
	ephIs(t, "hit b", err, nil)
	ephEqual(t, "b's count", n, int64(1))

	// The window does not slide: it ends window after the first hit.
	clock.Set(start.Add(window))
	get("login:a", 0, time.Time{})
	n, end, err := s.HitCounter(ctx, "login:a", window)
	ephIs(t, "hit in new window", err, nil)
	if n != 1 || !end.Equal(clock.Now().Add(window)) {
		t.Fatalf("first hit of new window = %d, %v; want 1, %v", n, end, clock.Now().Add(window))
	}
	ephIs(t, "reset", s.ResetCounter(ctx, "login:a"), nil)
	get("login:a", 0, time.Time{})
	ephIs(t, "reset absent", s.ResetCounter(ctx, "login:zzz"), nil)
	n, _, err = s.HitCounter(ctx, "login:a", window)
	ephIs(t, "hit after reset", err, nil)
	ephEqual(t, "count after reset", n, int64(1))
	if _, _, err := s.HitCounter(ctx, "login:c", 0); err == nil {
		t.Fatal("HitCounter with a zero window: no error")
	}
}

func ephTOTPSteps(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	exp := clock.Now().Add(90 * time.Second)
	ephIs(t, "use", s.UseTOTPStep(ctx, "user-1", 1000, exp), nil)
	ephIs(t, "use again", s.UseTOTPStep(ctx, "user-1", 1000, exp), store.ErrAlreadyUsed)
	ephIs(t, "next step", s.UseTOTPStep(ctx, "user-1", 1001, exp.Add(30*time.Second)), nil)
	ephIs(t, "an earlier step after a later one", s.UseTOTPStep(ctx, "user-1", 1000, exp), store.ErrAlreadyUsed)
	ephIs(t, "a step far later", s.UseTOTPStep(ctx, "user-3", 1005, exp), nil)
	ephIs(t, "any step below the last one, never used", s.UseTOTPStep(ctx, "user-3", 1002, exp), store.ErrAlreadyUsed)
	ephIs(t, "other user", s.UseTOTPStep(ctx, "user-2", 999, exp), nil)
	clock.Advance(119 * time.Second)
	ephIs(t, "use before expiry", s.UseTOTPStep(ctx, "user-1", 1001, exp), store.ErrAlreadyUsed)
	clock.Advance(time.Second)
	ephIs(t, "use after expiry", s.UseTOTPStep(ctx, "user-1", 1000, clock.Now().Add(time.Minute)), nil)
	ephIs(t, "expired step, not recorded", s.UseTOTPStep(ctx, "user-2", 7, clock.Now()), nil)
	ephIs(t, "after an unrecorded step", s.UseTOTPStep(ctx, "user-2", 7, clock.Now().Add(time.Minute)), nil)
}

// ephRefreshReuseEarlierClock: a caller whose clock reading is earlier
// than the rotation it lost to (read before the winner's, run after it;
// or another replica's clock slightly behind) is still reuse when there is
// no grace: with grace 0, "rotated less than grace ago" is never true,
// whatever the sign of the difference.
func ephRefreshReuseEarlierClock(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	ephIs(t, "create", s.CreateRefreshToken(ctx, ephToken("rt-1", "fam", clock.Now())), nil)
	_, err := s.RotateRefreshToken(ctx, "rt-1", ephToken("rt-2", "fam", clock.Now()), 0)
	ephIs(t, "rotate", err, nil)
	clock.Advance(-time.Millisecond)
	_, err = s.RotateRefreshToken(ctx, "rt-1", ephToken("rt-x", "fam", clock.Now()), 0)
	ephIs(t, "second use read an earlier clock", err, store.ErrAlreadyUsed)
	ephGetToken(t, s, "fam", "rt-2", store.ErrRevoked)
	ephGetToken(t, s, "fam", "rt-x", store.ErrNotFound)
}
