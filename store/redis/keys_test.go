package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// TestKeysHaveTTL runs every kind of write on a fake clock far from real
// time and checks that each key under the prefix carries a TTL of at
// most the records' lifetime: nothing lives forever, and TTLs follow the
// injected clock, not the wall clock.
func TestKeysHaveTTL(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	s := openTest(t, clock.Now)
	now := clock.Now()
	const life = 10 * time.Minute
	exp := now.Add(life)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("create session", s.CreateSession(ctx, store.Session{ID: "s", UserID: "u", ExpiresAt: now.Add(time.Minute)}))
	_, err := s.UpdateSession(ctx, "s", func(x *store.Session) error { x.ExpiresAt = exp; return nil })
	must("update session", err)
	must("create auth request", s.CreateAuthRequest(ctx, store.AuthRequest{ID: "r", ExpiresAt: exp}))
	_, err = s.UpdateAuthRequest(ctx, "r", func(r *store.AuthRequest) error { r.Done = true; return nil })
	must("update auth request", err)
	must("create code", s.CreateAuthCode(ctx, store.AuthCode{ID: "c", ExpiresAt: exp}))
	_, err = s.ConsumeAuthCode(ctx, "c")
	must("consume code", err)
	must("create token", s.CreateRefreshToken(ctx, store.RefreshToken{ID: "t1", FamilyID: "f", ExpiresAt: exp}))
	_, err = s.RotateRefreshToken(ctx, "t1", store.RefreshToken{ID: "t2", FamilyID: "f", ExpiresAt: exp}, 0)
	must("rotate", err)
	if _, err := s.RotateRefreshToken(ctx, "t1", store.RefreshToken{ID: "t3", FamilyID: "f", ExpiresAt: exp}, 0); err == nil {
		t.Fatal("reuse: no error")
	}
	must("revoke unseen family", s.RevokeFamily(ctx, "f2", exp))
	must("revoke token", s.RevokeToken(ctx, "j", exp))
	_, _, err = s.HitCounter(ctx, "k", life)
	must("hit counter", err)
	must("use TOTP step", s.UseTOTPStep(ctx, "u", 1, exp))

	keys, err := s.c.Keys(ctx, s.prefix+"*").Result()
	must("keys", err)
	kinds := map[string]bool{}
	for _, k := range keys {
		ttl, err := s.c.PTTL(ctx, k).Result()
		must("pttl", err)
		if ttl <= 0 || ttl > life {
			t.Errorf("key %s: TTL %v, want in (0, %v]", k, ttl, life)
		}
		kind, _, _ := strings.Cut(strings.TrimPrefix(k, s.prefix), ":")
		kinds[kind] = true
	}
	for _, kind := range []string{"session", "user_sessions", "authreq", "code", "refresh", "family", "revocations", "counter", "totp_last"} {
		if !kinds[kind] {
			t.Errorf("no %s key among %v", kind, keys)
		}
	}

	// Past ExpiresAt on the injected clock, records are gone for readers
	// even though Redis still holds the keys.
	clock.Advance(life)
	if _, err := s.GetSession(ctx, "s"); !errorsIs(err, store.ErrNotFound) {
		t.Errorf("get session after expiry: %v", err)
	}
	if ok, err := s.IsTokenRevoked(ctx, "j"); ok || err != nil {
		t.Errorf("is token revoked after expiry: %v, %v", ok, err)
	}
}

// TestClusterSlots checks that the keys a refresh-family script touches
// hash to one Cluster slot, whatever the family ID contains.
func TestClusterSlots(t *testing.T) {
	if got := slot("foo"); got != 12182 { // CLUSTER KEYSLOT foo
		t.Fatalf("slot(foo) = %d, want 12182", got)
	}
	s := &Store{prefix: "hubid:"} // key layout only: no client
	for _, fid := range []string{"fam", "a}b", "x{y", "{z}", "日本", strings.Repeat("f", 300)} {
		want := slot(s.familyKey(fid))
		for _, id := range []string{"t1", "t2", "{t3}", "}"} {
			if got := slot(s.tokenKey(fid, id)); got != want {
				t.Errorf("family %q token %q: slot %d, family slot %d", fid, id, got, want)
			}
		}
	}
	if slot(s.familyKey("a")) == slot(s.familyKey("b")) && slot(s.familyKey("c")) == slot(s.familyKey("d")) {
		t.Error("different families all share a slot: the hash tag is not the family ID")
	}
}

func TestPrefixWithBracePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted a prefix with '{'")
		}
	}()
	New(nil, Options{Prefix: "hub{id}:"})
}

// slot is Redis Cluster's key slot: CRC16/XMODEM of the hash tag (the
// text between the first '{' and the next '}', when not empty) or of the
// whole key, modulo 16384.
func slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
