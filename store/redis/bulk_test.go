package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// TestBulk writes records with the bulk calls and with the one-by-one
// calls and finds the same hash fields, TTLs and indexes, and then reads
// them back through the ordinary API.
func TestBulk(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	s := openTest(t, func() time.Time { return now })
	sess := func(id string) store.Session {
		return store.Session{ID: id, UserID: "u-" + id, AuthTime: now, AMR: []string{"pwd"}, Remember: true,
			CreatedAt: now, LastSeen: now, AbsoluteEnd: now.Add(2 * time.Hour), ExpiresAt: now.Add(3 * time.Hour),
			Clients: []string{"c"}, IP: "127.0.0.1", UserAgent: "ua"}
	}
	tok := func(fid string) store.RefreshToken {
		return store.RefreshToken{ID: "t-" + fid, FamilyID: fid, UserID: "u", ClientID: "c", SessionID: "s",
			Scopes: []string{"openid"}, Audience: []string{"c"}, AuthTime: now, Offline: true,
			FamilyCreatedAt: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	if err := s.CreateSession(ctx, sess("aaaa")); err != nil {
		t.Fatal(err)
	}
	if err := s.BulkCreateSessions(ctx, []store.Session{sess("bbbb"), sess("cccc")}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, tok("aaaa")); err != nil {
		t.Fatal(err)
	}
	if err := s.BulkCreateRefreshTokens(ctx, []store.RefreshToken{tok("bbbb"), tok("cccc")}); err != nil {
		t.Fatal(err)
	}
	same := func(a, b string) {
		t.Helper()
		ha, err1 := s.c.HGetAll(ctx, a).Result()
		hb, err2 := s.c.HGetAll(ctx, b).Result()
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if len(ha) != len(hb) || ha["e"] != hb["e"] || len(ha["v"]) != len(hb["v"]) {
			t.Errorf("%s = %v\n%s = %v", a, ha, b, hb)
		}
		ta, tb := s.c.PTTL(ctx, a).Val(), s.c.PTTL(ctx, b).Val()
		if ta <= 0 || tb <= 0 || ta-tb > time.Minute || tb-ta > time.Minute {
			t.Errorf("TTL %s %v, %s %v", a, ta, b, tb)
		}
	}
	// IDs of one length: the JSON differs only in them.
	same(s.sessionKey("aaaa"), s.sessionKey("cccc"))
	if m := s.c.SMembers(ctx, s.userKey("u-cccc")).Val(); len(m) != 1 || m[0] != "cccc" {
		t.Errorf("user index %v", m)
	}
	if ta, tb := s.c.PTTL(ctx, s.userKey("u-aaaa")).Val(), s.c.PTTL(ctx, s.userKey("u-cccc")).Val(); tb <= 0 || ta-tb > time.Minute || tb-ta > time.Minute {
		t.Errorf("user index TTL %v, bulk %v", ta, tb)
	}
	same(s.tokenKey("aaaa", "t-aaaa"), s.tokenKey("cccc", "t-cccc"))
	same(s.familyKey("aaaa"), s.familyKey("cccc"))
	// The idle expiry was clamped to the absolute end, as CreateSession does.
	got, err := s.GetSession(ctx, "cccc")
	if err != nil || !got.ExpiresAt.Equal(now.Add(2*time.Hour)) || got.UserID != "u-cccc" {
		t.Fatalf("GetSession: %+v, %v", got, err)
	}
	if ss, err := s.ListUserSessions(ctx, "u-bbbb"); err != nil || len(ss) != 1 {
		t.Fatalf("ListUserSessions: %+v, %v", ss, err)
	}
	if rt, err := s.GetRefreshToken(ctx, "bbbb", "t-bbbb"); err != nil || rt.SessionID != "s" || !rt.Offline {
		t.Fatalf("GetRefreshToken: %+v, %v", rt, err)
	}
	next := tok("bbbb")
	next.ID = "t2"
	if _, err := s.RotateRefreshToken(ctx, "t-bbbb", next, 0); err != nil {
		t.Fatalf("rotate a bulk token: %v", err)
	}
	// A live record is not overwritten; the clash is reported.
	clash := sess("bbbb")
	clash.UserID = "someone else"
	if err := s.BulkCreateSessions(ctx, []store.Session{clash}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("clash: %v", err)
	}
	if got, _ := s.GetSession(ctx, "bbbb"); got.UserID != "u-bbbb" {
		t.Fatalf("live session overwritten: %+v", got)
	}
	if err := s.BulkCreateRefreshTokens(ctx, []store.RefreshToken{{ID: "x"}}); err == nil {
		t.Fatal("token without family accepted")
	}
}
