package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// EphemeralOpener opens an empty store.Ephemeral that reads clock.Now as
// its clock. It registers its own cleanup (Close, dropping keys) on t.
type EphemeralOpener func(t *testing.T, clock *Clock) store.Ephemeral

// RunEphemeral runs the conformance suite for store.Ephemeral. Each
// subtest opens its own store with its own clock starting at a fixed
// instant; expiry is tested by advancing that clock, never by sleeping, so
// backends must judge expiry with the injected clock (a backend may also
// drop records by real time, which only happens later).
func RunEphemeral(t *testing.T, open func(t *testing.T, clock *Clock) store.Ephemeral) {
	tests := []struct {
		name string
		fn   func(*testing.T, EphemeralOpener)
	}{
		{"Ping", ephPing},
		{"SessionCRUD", ephSessionCRUD},
		{"SessionUpdate", ephSessionUpdate},
		{"SessionCopies", ephSessionCopies},
		{"SessionTouch", ephSessionTouch},
		{"SessionExpiry", ephSessionExpiry},
		{"SessionList", ephSessionList},
		{"AuthRequest", ephAuthRequest},
		{"AuthRequestExpiry", ephAuthRequestExpiry},
		{"AuthCode", ephAuthCode},
		{"AuthCodeExpiry", ephAuthCodeExpiry},
		{"RefreshCreateGet", ephRefreshCreateGet},
		{"RefreshRotateChain", ephRefreshRotateChain},
		{"RefreshRotateErrors", ephRefreshRotateErrors},
		{"RefreshGraceRetry", ephRefreshGraceRetry},
		{"RefreshGraceSuccessorUsed", ephRefreshGraceSuccessorUsed},
		{"RefreshReuseRevokesFamily", ephRefreshReuse},
		{"RefreshReuseEarlierClock", ephRefreshReuseEarlierClock},
		{"RefreshRevokeFamily", ephRefreshRevokeFamily},
		{"RevokedTokens", ephRevokedTokens},
		{"Counters", ephCounters},
		{"TOTPSteps", ephTOTPSteps},
		{"SecondStepState", ephSecondStepState},
		{"ContentionConsumeCode", ephContentionConsume},
		{"ContentionRotate", ephContentionRotate},
		{"ContentionRotateClockSkew", ephContentionRotateClockSkew},
		{"ContentionGraceRetries", ephContentionGrace},
		{"ContentionCounter", ephContentionCounter},
		{"ContentionTOTP", ephContentionTOTP},
		{"ContentionUpdateSession", ephContentionUpdateSession},
		{"ContentionTouchSession", ephContentionTouchSession},
		{"ContentionUpdateAuthRequest", ephContentionUpdateAuthRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// ephT0 is where every subtest's clock starts: whole seconds, UTC, so
// records survive a JSON round trip unchanged.
var ephT0 = time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)

func ephOpen(t *testing.T, open EphemeralOpener) (store.Ephemeral, *Clock) {
	t.Helper()
	c := NewClock(ephT0)
	return open(t, c), c
}

// ephIs fails t unless err matches want (nil means no error).
func ephIs(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error: %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// ephEqual fails t unless got and want are deeply equal.
func ephEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func ephSession(id, userID string, now time.Time) store.Session {
	return store.Session{
		ID:          id,
		UserID:      userID,
		AuthTime:    now,
		AMR:         []string{"pwd", "otp"},
		Remember:    true,
		CreatedAt:   now,
		LastSeen:    now,
		AbsoluteEnd: now.Add(30 * 24 * time.Hour),
		ExpiresAt:   now.Add(time.Hour),
		Clients:     []string{"portal"},
		OrgChoices:  map[string]string{"portal": "org-1"},
		IP:          "192.0.2.10",
		UserAgent:   "conformance/1.0",
	}
}

func ephPing(t *testing.T, open EphemeralOpener) {
	s, _ := ephOpen(t, open)
	ephIs(t, "ping", s.Ping(context.Background()), nil)
}

func ephSessionCRUD(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	want := ephSession("sess-1", "user-1", clock.Now())
	_, err := s.GetSession(ctx, want.ID)
	ephIs(t, "get before create", err, store.ErrNotFound)
	ephIs(t, "create", s.CreateSession(ctx, want), nil)
	clash := ephSession(want.ID, "user-2", clock.Now())
	ephIs(t, "create clash", s.CreateSession(ctx, clash), store.ErrAlreadyExists)
	got, err := s.GetSession(ctx, want.ID)
	ephIs(t, "get", err, nil)
	ephEqual(t, "get", got, want)
	ephIs(t, "delete", s.DeleteSession(ctx, want.ID), nil)
	_, err = s.GetSession(ctx, want.ID)
	ephIs(t, "get after delete", err, store.ErrNotFound)
	ephIs(t, "delete again", s.DeleteSession(ctx, want.ID), store.ErrNotFound)
	_, err = s.UpdateSession(ctx, want.ID, func(*store.Session) error { return nil })
	ephIs(t, "update deleted", err, store.ErrNotFound)
	ephIs(t, "create after delete", s.CreateSession(ctx, want), nil)
}

func ephSessionUpdate(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	x := ephSession("sess-u", "user-1", clock.Now())
	ephIs(t, "create", s.CreateSession(ctx, x), nil)

	clock.Advance(time.Minute)
	now := clock.Now()
	got, err := s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.Clients = append(x.Clients, "shop")
		x.OrgChoices["shop"] = "org-2"
		x.LastSeen = now
		x.ExpiresAt = now.Add(2 * time.Hour)
		return nil
	})
	ephIs(t, "update", err, nil)
	want := x
	want.Clients = []string{"portal", "shop"}
	want.OrgChoices = map[string]string{"portal": "org-1", "shop": "org-2"}
	want.LastSeen, want.ExpiresAt = now, now.Add(2*time.Hour)
	ephEqual(t, "update result", got, want)
	got, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get", err, nil)
	ephEqual(t, "get after update", got, want)

	boom := errors.New("boom")
	_, err = s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.Clients = nil
		return boom
	})
	ephIs(t, "update with failing fn", err, boom)
	_, err = s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.ID = "other"
		return nil
	})
	if err == nil {
		t.Fatal("update changing ID: no error")
	}
	_, err = s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.UserID = "user-2"
		return nil
	})
	if err == nil {
		t.Fatal("update changing UserID: no error")
	}
	got, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get after failed updates", err, nil)
	ephEqual(t, "record after failed updates", got, want)
	_, err = s.UpdateSession(ctx, "nope", func(*store.Session) error { return nil })
	ephIs(t, "update unknown", err, store.ErrNotFound)

	// The idle expiry never passes the absolute end.
	got, err = s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.ExpiresAt = x.AbsoluteEnd.Add(time.Hour)
		return nil
	})
	ephIs(t, "update past absolute end", err, nil)
	if !got.ExpiresAt.Equal(x.AbsoluteEnd) {
		t.Fatalf("ExpiresAt = %v, want clamped to AbsoluteEnd %v", got.ExpiresAt, x.AbsoluteEnd)
	}

	// Ending a session by update removes it.
	_, err = s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.ExpiresAt = now
		return nil
	})
	ephIs(t, "update ending session", err, nil)
	_, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get ended session", err, store.ErrNotFound)
	list, err := s.ListUserSessions(ctx, x.UserID)
	ephIs(t, "list", err, nil)
	ephEqual(t, "list after end", len(list), 0)
}

func ephSessionCopies(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	x := ephSession("sess-c", "user-1", clock.Now())
	ephIs(t, "create", s.CreateSession(ctx, x), nil)
	x.Clients[0] = "changed-after-create"
	got, err := s.GetSession(ctx, x.ID)
	ephIs(t, "get", err, nil)
	ephEqual(t, "clients after caller changed its copy", got.Clients, []string{"portal"})
	got.Clients[0] = "changed-after-get"
	got.AMR = append(got.AMR[:0], "x")
	again, err := s.GetSession(ctx, x.ID)
	ephIs(t, "get again", err, nil)
	ephEqual(t, "clients after caller changed a read", again.Clients, []string{"portal"})
	ephEqual(t, "amr after caller changed a read", again.AMR, []string{"pwd", "otp"})
}

func ephSessionExpiry(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	x := ephSession("sess-e", "user-1", clock.Now())
	x.ExpiresAt = clock.Now().Add(10 * time.Minute)
	ephIs(t, "create", s.CreateSession(ctx, x), nil)
	clock.Advance(10*time.Minute - time.Second)
	_, err := s.GetSession(ctx, x.ID)
	ephIs(t, "get just before expiry", err, nil)
	clock.Advance(time.Second)
	_, err = s.GetSession(ctx, x.ID)
	ephIs(t, "get at expiry", err, store.ErrNotFound)
	_, err = s.UpdateSession(ctx, x.ID, func(*store.Session) error { return nil })
	ephIs(t, "update expired", err, store.ErrNotFound)
	list, err := s.ListUserSessions(ctx, x.UserID)
	ephIs(t, "list", err, nil)
	ephEqual(t, "live sessions", len(list), 0)
	ephIs(t, "delete expired", s.DeleteSession(ctx, x.ID), store.ErrNotFound)

	// An expired record does not block its ID.
	y := ephSession("sess-e2", "user-1", clock.Now())
	ephIs(t, "create y", s.CreateSession(ctx, y), nil)
	clock.Advance(2 * time.Hour)
	y2 := ephSession(y.ID, "user-2", clock.Now())
	ephIs(t, "create over expired", s.CreateSession(ctx, y2), nil)
	got, err := s.GetSession(ctx, y.ID)
	ephIs(t, "get recreated", err, nil)
	ephEqual(t, "recreated", got, y2)

	// A record already past ExpiresAt is not stored; ExpiresAt is clamped
	// to AbsoluteEnd on create too.
	z := ephSession("sess-e3", "user-1", clock.Now())
	z.ExpiresAt = clock.Now()
	ephIs(t, "create expired", s.CreateSession(ctx, z), nil)
	_, err = s.GetSession(ctx, z.ID)
	ephIs(t, "get created expired", err, store.ErrNotFound)
	w := ephSession("sess-e4", "user-1", clock.Now())
	w.AbsoluteEnd = clock.Now().Add(time.Minute)
	ephIs(t, "create beyond absolute end", s.CreateSession(ctx, w), nil)
	clock.Advance(time.Minute)
	_, err = s.GetSession(ctx, w.ID)
	ephIs(t, "get after absolute end", err, store.ErrNotFound)
}

func ephSessionList(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	var want []store.Session
	for i := range 3 {
		x := ephSession(fmt.Sprintf("a-%d", 3-i), "alice", clock.Now())
		if i == 1 {
			x.ExpiresAt = clock.Now().Add(30 * time.Minute)
		}
		ephIs(t, "create", s.CreateSession(ctx, x), nil)
		want = append(want, x)
		clock.Advance(time.Second)
	}
	ephIs(t, "create bob's", s.CreateSession(ctx, ephSession("b-1", "bob", clock.Now())), nil)

	got, err := s.ListUserSessions(ctx, "alice")
	ephIs(t, "list alice", err, nil)
	ephEqual(t, "alice's sessions, oldest first", got, want)
	got, err = s.ListUserSessions(ctx, "bob")
	ephIs(t, "list bob", err, nil)
	ephEqual(t, "bob's session count", len(got), 1)
	got, err = s.ListUserSessions(ctx, "carol")
	ephIs(t, "list carol", err, nil)
	ephEqual(t, "carol's session count", len(got), 0)

	ephIs(t, "delete", s.DeleteSession(ctx, want[0].ID), nil)
	clock.Advance(30 * time.Minute) // want[1] expires
	got, err = s.ListUserSessions(ctx, "alice")
	ephIs(t, "list alice again", err, nil)
	ephEqual(t, "alice's remaining sessions", got, want[2:])
	got, err = s.ListUserSessions(ctx, "alice") // after pruning
	ephIs(t, "list alice a third time", err, nil)
	ephEqual(t, "alice's remaining sessions after pruning", got, want[2:])
}

func ephAuthRequestRecord(id string, now time.Time) store.AuthRequest {
	maxAge := uint(300)
	return store.AuthRequest{
		ID:                  id,
		ClientID:            "portal",
		RedirectURI:         "https://portal.example/cb",
		Scopes:              []string{"openid", "email"},
		State:               "st",
		Nonce:               "n-0S6_WzA2Mj",
		ResponseType:        "code",
		ResponseMode:        "query",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Prompt:              []string{"login"},
		MaxAge:              &maxAge,
		LoginHint:           "a@example.com",
		OrgHint:             "NK0001",
		UILocales:           []string{"ja", "en"},
		ACRValues:           nil,
		CreatedAt:           now,
		ExpiresAt:           now.Add(30 * time.Minute),
	}
}

func ephAuthRequest(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	want := ephAuthRequestRecord("ar-1", clock.Now())
	_, err := s.GetAuthRequest(ctx, want.ID)
	ephIs(t, "get before create", err, store.ErrNotFound)
	ephIs(t, "create", s.CreateAuthRequest(ctx, want), nil)
	ephIs(t, "create clash", s.CreateAuthRequest(ctx, want), store.ErrAlreadyExists)
	got, err := s.GetAuthRequest(ctx, want.ID)
	ephIs(t, "get", err, nil)
	ephEqual(t, "get", got, want)
	*got.MaxAge = 1 // must not reach the store
	got.Scopes[0] = "x"

	now := clock.Now()
	got, err = s.UpdateAuthRequest(ctx, want.ID, func(r *store.AuthRequest) error {
		r.Done, r.UserID, r.SessionID, r.AuthTime = true, "user-1", "sess-1", now
		r.AMR, r.OrgID = []string{"pwd"}, "org-1"
		return nil
	})
	ephIs(t, "update", err, nil)
	want.Done, want.UserID, want.SessionID, want.AuthTime = true, "user-1", "sess-1", now
	want.AMR, want.OrgID = []string{"pwd"}, "org-1"
	ephEqual(t, "update result", got, want)
	got, err = s.GetAuthRequest(ctx, want.ID)
	ephIs(t, "get after update", err, nil)
	ephEqual(t, "get after update", got, want)

	boom := errors.New("boom")
	_, err = s.UpdateAuthRequest(ctx, want.ID, func(r *store.AuthRequest) error {
		r.Done = false
		return boom
	})
	ephIs(t, "update with failing fn", err, boom)
	_, err = s.UpdateAuthRequest(ctx, want.ID, func(r *store.AuthRequest) error {
		r.ID = "other"
		return nil
	})
	if err == nil {
		t.Fatal("update changing ID: no error")
	}
	got, err = s.GetAuthRequest(ctx, want.ID)
	ephIs(t, "get after failed updates", err, nil)
	ephEqual(t, "after failed updates", got, want)
	_, err = s.UpdateAuthRequest(ctx, "nope", func(*store.AuthRequest) error { return nil })
	ephIs(t, "update unknown", err, store.ErrNotFound)

	ephIs(t, "delete", s.DeleteAuthRequest(ctx, want.ID), nil)
	_, err = s.GetAuthRequest(ctx, want.ID)
	ephIs(t, "get after delete", err, store.ErrNotFound)
	ephIs(t, "delete again", s.DeleteAuthRequest(ctx, want.ID), store.ErrNotFound)
}

func ephAuthRequestExpiry(t *testing.T, open EphemeralOpener) {
	ctx := context.Background()
	s, clock := ephOpen(t, open)
	r := ephAuthRequestRecord("ar-e", clock.Now())
	ephIs(t, "create", s.CreateAuthRequest(ctx, r), nil)
	clock.Advance(30 * time.Minute)
	_, err := s.GetAuthRequest(ctx, r.ID)
	ephIs(t, "get expired", err, store.ErrNotFound)
	_, err = s.UpdateAuthRequest(ctx, r.ID, func(*store.AuthRequest) error { return nil })
	ephIs(t, "update expired", err, store.ErrNotFound)
	ephIs(t, "delete expired", s.DeleteAuthRequest(ctx, r.ID), store.ErrNotFound)

	r2 := ephAuthRequestRecord("ar-e2", clock.Now())
	ephIs(t, "create", s.CreateAuthRequest(ctx, r2), nil)
	clock.Advance(30 * time.Minute)
	r3 := ephAuthRequestRecord(r2.ID, clock.Now())
	ephIs(t, "create over expired", s.CreateAuthRequest(ctx, r3), nil)
	_, err = s.UpdateAuthRequest(ctx, r3.ID, func(r *store.AuthRequest) error {
		r.ExpiresAt = clock.Now()
		return nil
	})
	ephIs(t, "update ending request", err, nil)
	_, err = s.GetAuthRequest(ctx, r3.ID)
	ephIs(t, "get ended request", err, store.ErrNotFound)

	r4 := ephAuthRequestRecord("ar-e4", clock.Now())
	r4.ExpiresAt = clock.Now()
	ephIs(t, "create expired", s.CreateAuthRequest(ctx, r4), nil)
	_, err = s.GetAuthRequest(ctx, r4.ID)
	ephIs(t, "get created expired", err, store.ErrNotFound)
}
