package redis

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// TestCompactRecords: sessions and refresh tokens are stored in the
// compact form, under two thirds of their struct's JSON, and read back
// whole; records in the earlier form are still read.
func TestCompactRecords(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	s := openTest(t, func() time.Time { return now })
	x := store.Session{ID: "sess-compact", UserID: "u1", AuthTime: now, AMR: []string{"pwd", "otp"}, Remember: true,
		CreatedAt: now, LastSeen: now, AbsoluteEnd: now.Add(2 * time.Hour), ExpiresAt: now.Add(time.Hour),
		Clients: []string{"c"}, OrgChoices: map[string]string{"c": "o"}, IP: "10.0.0.1", UserAgent: "ua",
		PendingTOTP: &store.PendingTOTP{Sealed: []byte{1, 2}, Until: now.Add(time.Minute)}}
	if err := s.CreateSession(ctx, x); err != nil {
		t.Fatal(err)
	}
	stored := s.c.HGet(ctx, s.sessionKey(x.ID), "v").Val()
	full, _ := json.Marshal(x)
	if len(stored)*3 > len(full)*2 {
		t.Errorf("stored session %d bytes, its struct's JSON %d: %s", len(stored), len(full), stored)
	}
	got, err := s.GetSession(ctx, x.ID)
	if err != nil || !reflect.DeepEqual(got, x) {
		t.Fatalf("GetSession = %+v, %v\nwant %+v", got, err, x)
	}
	// A session without a user (a browser before sign-in) keeps its form.
	anon := store.Session{ID: "anon", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, anon); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetSession(ctx, "anon"); err != nil || !reflect.DeepEqual(got, anon) {
		t.Fatalf("GetSession(anon) = %+v, %v", got, err)
	}

	tok := store.RefreshToken{ID: "t1", FamilyID: "f1", UserID: "u1", ClientID: "c", SessionID: x.ID,
		Scopes: []string{"openid"}, Audience: []string{"c"}, AMR: []string{"pwd"}, AuthTime: now, OrgID: "o",
		Offline: true, FamilyCreatedAt: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		AccessID: "at-1", AccessExpiresAt: now.Add(10 * time.Minute)}
	if err := s.CreateRefreshToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRefreshToken(ctx, "f1", "t1"); err != nil || !reflect.DeepEqual(got, tok) {
		t.Fatalf("GetRefreshToken = %+v, %v\nwant %+v", got, err, tok)
	}

	// Records written in the earlier form (the structs' own JSON).
	old := x
	old.ID, old.UserID = "sess-old", "u2"
	oldJSON, _ := json.Marshal(old)
	s.c.HSet(ctx, s.sessionKey(old.ID), "v", oldJSON, "e", micros(old.ExpiresAt))
	s.c.PExpire(ctx, s.sessionKey(old.ID), time.Hour)
	if got, err := s.GetSession(ctx, old.ID); err != nil || !reflect.DeepEqual(got, old) {
		t.Fatalf("earlier-form session = %+v, %v", got, err)
	}
	upd, err := s.UpdateSession(ctx, old.ID, func(x *store.Session) error { x.IP = "10.0.0.2"; return nil })
	if err != nil || upd.ID != old.ID || upd.UserID != "u2" || upd.IP != "10.0.0.2" {
		t.Fatalf("update of an earlier-form session: %+v, %v", upd, err)
	}
	oldTok := tok
	oldTok.ID, oldTok.FamilyID = "t-old", "f-old"
	oldTokJSON, _ := json.Marshal(oldTok)
	s.c.HSet(ctx, s.tokenKey("f-old", "t-old"), "v", oldTokJSON, "e", micros(oldTok.ExpiresAt))
	if got, err := s.GetRefreshToken(ctx, "f-old", "t-old"); err != nil || !reflect.DeepEqual(got, oldTok) {
		t.Fatalf("earlier-form token = %+v, %v", got, err)
	}
	next := tok
	next.ID, next.FamilyID = "t-old-2", "f-old"
	if prev, err := s.RotateRefreshToken(ctx, "t-old", next, 0); err != nil || prev.UserID != "u1" || prev.ID != "t-old" {
		t.Fatalf("rotate an earlier-form token: %+v, %v", prev, err)
	}
}

// TestCompactRecordsKnowEveryField fails when store.Session or
// store.RefreshToken gains a field: codec.go must store it too.
func TestCompactRecordsKnowEveryField(t *testing.T) {
	if n := reflect.TypeOf(store.Session{}).NumField(); n != 14 {
		t.Errorf("store.Session has %d fields, codec.go knows 14: add the new one to compactSession", n)
	}
	if n := reflect.TypeOf(store.RefreshToken{}).NumField(); n != 18 {
		t.Errorf("store.RefreshToken has %d fields, codec.go knows 18: add the new one to compactToken", n)
	}
}
