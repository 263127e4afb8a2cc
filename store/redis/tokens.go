package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/store"
)

// maxRotateAttempts bounds how often RotateRefreshToken re-runs its
// script because the successor changed under it. Each re-run after the
// first means another grace-period retry of the same token committed, so
// n concurrent retries need at most n+1 attempts each.
const maxRotateAttempts = 100

var (
	errNoFamily    = errors.New("store/redis: refresh token without FamilyID")
	errNextExpired = errors.New("store/redis: rotate refresh token: successor already expired")
	errWindow      = errors.New("store/redis: hit counter: window must be positive")
	errReply       = errors.New("store/redis: unexpected script reply")
)

// CreateAuthCode stores a new code; ErrAlreadyExists if a live code has
// the ID. A code already expired is not stored.
func (s *Store) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	var extra []any
	if !c.ConsumedAt.IsZero() {
		extra = append(extra, "used", stamp(c.ConsumedAt))
	}
	c.ConsumedAt = time.Time{} // kept in field "used"
	return s.create(ctx, "create auth code", s.codeKey(c.ID), c, c.ExpiresAt, s.now(), extra...)
}

// ConsumeAuthCode redeems a code in one script; a second call returns the
// record (ConsumedAt from the first) with ErrAlreadyUsed. The script
// stores a random operation ID with the redemption, so go-redis's retry
// of this call after a lost reply succeeds (see consumeScript).
func (s *Store) ConsumeAuthCode(ctx context.Context, id string) (store.AuthCode, error) {
	const op = "consume auth code"
	now := s.now()
	opID, err := s.opID()
	if err != nil {
		return store.AuthCode{}, fmt.Errorf("store/redis: %s: %w", op, err)
	}
	res, err := consumeScript.Run(ctx, s.w, []string{s.codeKey(id)}, micros(now), stamp(now), opID).Slice()
	if errors.Is(err, goredis.Nil) {
		return store.AuthCode{}, sentinel(op, store.ErrNotFound)
	}
	if err != nil {
		return store.AuthCode{}, s.fail(op, err)
	}
	if len(res) != 3 {
		return store.AuthCode{}, fmt.Errorf("store/redis: %s: %w", op, errReply)
	}
	var c store.AuthCode
	if err := json.Unmarshal([]byte(str(res[0])), &c); err != nil {
		return store.AuthCode{}, fmt.Errorf("store/redis: %s: decode: %w", op, err)
	}
	if c.ConsumedAt, err = parseStamp(str(res[1])); err != nil {
		return store.AuthCode{}, err
	}
	if n, _ := res[2].(int64); n == 1 {
		return c, sentinel(op, store.ErrAlreadyUsed)
	}
	return c, nil
}

// str returns a script reply element as a string ("" when not one).
func str(v any) string {
	s, _ := v.(string)
	return s
}

// tokenFields are the extra hash fields of a token that was created
// already rotated (rare: imports). RotatedAt and ReplacedBy live outside
// the JSON so that scripts can change them.
func tokenFields(t *store.RefreshToken) []any {
	var extra []any
	if !t.RotatedAt.IsZero() {
		extra = append(extra, "rot", stamp(t.RotatedAt), "rotus", micros(t.RotatedAt), "by", t.ReplacedBy)
	}
	t.RotatedAt, t.ReplacedBy = time.Time{}, ""
	return extra
}

// decodeToken builds token id of family fid from its JSON and rotation
// fields.
func decodeToken(fid, id, v, rot, by string) (store.RefreshToken, error) {
	var j tokenJSON
	if err := json.Unmarshal([]byte(v), &j); err != nil {
		return store.RefreshToken{}, fmt.Errorf("store/redis: decode refresh token: %w", err)
	}
	t := store.RefreshToken(j)
	t.ID, t.FamilyID = id, fid // the compact form leaves them to the key
	if rot != "" {
		var err error
		if t.RotatedAt, err = parseStamp(rot); err != nil {
			return t, err
		}
		t.ReplacedBy = by
	}
	return t, nil
}

// CreateRefreshToken stores a new token; ErrAlreadyExists if a live token
// of its family has the ID. A token already expired is not stored.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	const op = "create refresh token"
	if t.FamilyID == "" {
		return errNoFamily
	}
	keys := []string{s.tokenKey(t.FamilyID, t.ID), s.familyKey(t.FamilyID)}
	exp := t.ExpiresAt
	extra := tokenFields(&t)
	args, err := createArgs(op, tokenJSON(t), exp, s.now(), extra...)
	if err != nil {
		return err
	}
	n, err := createTokenScript.Run(ctx, s.w, keys, args...).Int()
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return sentinel(op, store.ErrAlreadyExists)
	}
	return nil
}

// GetRefreshToken returns a live token; when its family is revoked it
// returns the record with ErrRevoked.
func (s *Store) GetRefreshToken(ctx context.Context, fid, id string) (store.RefreshToken, error) {
	const op = "get refresh token"
	var tok, fam *goredis.SliceCmd
	// MULTI for a consistent read of two keys of one slot: one round trip.
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		tok = p.HMGet(ctx, s.tokenKey(fid, id), "v", "e", "rot", "by")
		fam = p.HMGet(ctx, s.familyKey(fid), "e", "rev")
		return nil
	})
	if err != nil {
		return store.RefreshToken{}, s.fail(op, err)
	}
	tv, fv := tok.Val(), fam.Val()
	now := s.now()
	if str(tv[0]) == "" || !liveMicros(str(tv[1]), now) {
		return store.RefreshToken{}, sentinel(op, store.ErrNotFound)
	}
	t, err := decodeToken(fid, id, str(tv[0]), str(tv[2]), str(tv[3]))
	if err != nil {
		return store.RefreshToken{}, err
	}
	if str(fv[1]) == "1" && liveMicros(str(fv[0]), now) {
		return t, sentinel(op, store.ErrRevoked)
	}
	return t, nil
}

// liveMicros reports whether an expiry field (Unix µs) is after now.
func liveMicros(v string, now time.Time) bool {
	e, err := strconv.ParseInt(v, 10, 64)
	return err == nil && now.UnixMicro() < e
}

// RotateRefreshToken implements store.RefreshStore.RotateRefreshToken in
// one script over the family's slot: the script only touches keys of
// next.FamilyID, so an old token of another family is simply not found.
// The old record is returned as it was before the call, also with
// ErrAlreadyUsed or ErrRevoked.
// A retry of the same call (same next.ID, a random value) after a lost
// reply returns the first run's success (see rotateScript).
func (s *Store) RotateRefreshToken(ctx context.Context, oldID string, next store.RefreshToken, grace time.Duration) (store.RefreshToken, error) {
	const op = "rotate refresh token"
	if next.FamilyID == "" {
		return store.RefreshToken{}, errNoFamily
	}
	now := s.now()
	ttl := ttlMillis(next.ExpiresAt, now)
	if ttl <= 0 {
		return store.RefreshToken{}, errNextExpired
	}
	return s.rotate(ctx, op, next.FamilyID, oldID, next, grace, now, ttl)
}

func (s *Store) rotate(ctx context.Context, op, fid, oldID string, next store.RefreshToken, grace time.Duration, now time.Time, ttl int64) (store.RefreshToken, error) {
	tokenFields(&next) // a successor starts current
	data, err := json.Marshal(tokenJSON(next))
	if err != nil {
		return store.RefreshToken{}, fmt.Errorf("store/redis: %s: encode: %w", op, err)
	}
	oldKey := s.tokenKey(fid, oldID)
	succ, succKey := "", oldKey // successor unknown until the script names it
	for range maxRotateAttempts {
		keys := []string{oldKey, s.tokenKey(fid, next.ID), s.familyKey(fid), succKey}
		args := []any{micros(now), stamp(now), next.ID, data, micros(next.ExpiresAt), ttl, grace.Microseconds(), succ}
		res, err := rotateScript.Run(ctx, s.w, keys, args...).Slice()
		if errors.Is(err, goredis.Nil) {
			return store.RefreshToken{}, sentinel(op, store.ErrNotFound)
		}
		if err != nil {
			return store.RefreshToken{}, s.fail(op, err)
		}
		status := str(res[0])
		switch {
		case status == "exists":
			return store.RefreshToken{}, sentinel(op, store.ErrAlreadyExists)
		case status == "retry" && len(res) == 2:
			// A retry within grace is about to replace the successor
			// succ: revoke the access token issued with it first. The
			// revocation set lives in another Cluster slot, so this is
			// a command of its own, ordered before the script; the
			// script replaces only succ (the one revoked here), and an
			// error here leaves succ in place and fails this call.
			succ = str(res[1])
			succKey = s.tokenKey(fid, succ)
			if err := s.revokeAccessOf(ctx, op, succKey); err != nil {
				return store.RefreshToken{}, err
			}
			continue
		case len(res) != 4:
			return store.RefreshToken{}, fmt.Errorf("store/redis: %s: %w", op, errReply)
		}
		old, err := decodeToken(fid, oldID, str(res[1]), str(res[2]), str(res[3]))
		if err != nil {
			return store.RefreshToken{}, err
		}
		switch status {
		case "ok":
			// As before the call: a first rotation found old current (the
			// script is only ever told a successor once old was rotated);
			// a retry within grace replaced the successor succ.
			if succ == "" {
				old.RotatedAt, old.ReplacedBy = time.Time{}, ""
			} else {
				old.ReplacedBy = succ
			}
			return old, nil
		case "revoked":
			return old, sentinel(op, store.ErrRevoked)
		case "reused":
			return old, sentinel(op, store.ErrAlreadyUsed)
		}
		return store.RefreshToken{}, fmt.Errorf("store/redis: %s: %w", op, errReply)
	}
	return store.RefreshToken{}, fmt.Errorf("store/redis: %s: gave up after %d attempts under contention: %w", op, maxRotateAttempts, store.ErrUnavailable)
}

// revokeAccessOf revokes the access token issued with the refresh token
// stored under key (nothing when the token is gone or names none). A
// token's AccessID never changes once stored.
func (s *Store) revokeAccessOf(ctx context.Context, op, key string) error {
	v, err := s.c.HGet(ctx, key, "v").Result()
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	if err != nil {
		return s.fail(op, err)
	}
	var t tokenJSON
	if err := json.Unmarshal([]byte(v), &t); err != nil {
		return fmt.Errorf("store/redis: %s: decode successor: %w", op, err)
	}
	if t.AccessID == "" {
		return nil
	}
	if err := s.RevokeToken(ctx, t.AccessID, t.AccessExpiresAt); err != nil {
		return fmt.Errorf("store/redis: %s: revoke the replaced successor's access token: %w", op, err)
	}
	return nil
}

// RevokeFamily revokes the family until expiresAt or until its last known
// token expires, whichever is later.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, expiresAt time.Time) error {
	now := s.now()
	err := revokeFamilyScript.Run(ctx, s.w, []string{s.familyKey(familyID)},
		micros(now), micros(expiresAt), ttlMillis(expiresAt, now)).Err()
	return s.fail("revoke family", err)
}

// IsFamilyRevoked reports whether the family is revoked.
func (s *Store) IsFamilyRevoked(ctx context.Context, familyID string) (bool, error) {
	v, err := s.c.HMGet(ctx, s.familyKey(familyID), "e", "rev").Result()
	if err != nil {
		return false, s.fail("is family revoked", err)
	}
	return str(v[1]) == "1" && liveMicros(str(v[0]), s.now()), nil
}

// HitCounter counts a hit in key's current window, opening a window of
// length window (rounded up to a millisecond) when there is none.
func (s *Store) HitCounter(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	const op = "hit counter"
	if window <= 0 {
		return 0, time.Time{}, errWindow
	}
	now := s.now()
	end := now.Add(window)
	res, err := hitScript.Run(ctx, s.w, []string{s.counterKey(key)},
		micros(now), micros(end), ttlMillis(end, now)).Slice()
	if err != nil {
		return 0, time.Time{}, s.fail(op, err)
	}
	if len(res) != 2 {
		return 0, time.Time{}, fmt.Errorf("store/redis: %s: %w", op, errReply)
	}
	n, _ := res[0].(int64)
	e, err := strconv.ParseInt(str(res[1]), 10, 64)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store/redis: %s: %w", op, errReply)
	}
	return n, time.UnixMicro(e).In(now.Location()), nil
}

// GetCounter returns the count of key's current window and its end, or 0
// and the zero time when there is no window.
func (s *Store) GetCounter(ctx context.Context, key string) (int64, time.Time, error) {
	const op = "get counter"
	v, err := s.c.HMGet(ctx, s.counterKey(key), "c", "e").Result()
	if err != nil {
		return 0, time.Time{}, s.fail(op, err)
	}
	now := s.now()
	if !liveMicros(str(v[1]), now) {
		return 0, time.Time{}, nil
	}
	n, err1 := strconv.ParseInt(str(v[0]), 10, 64)
	e, err2 := strconv.ParseInt(str(v[1]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, time.Time{}, fmt.Errorf("store/redis: %s: %w", op, err)
	}
	return n, time.UnixMicro(e).In(now.Location()), nil
}

// ResetCounter forgets key's window.
func (s *Store) ResetCounter(ctx context.Context, key string) error {
	return s.fail("reset counter", s.c.Del(ctx, s.counterKey(key)).Err())
}

// UseTOTPStep makes step userID's last used TOTP step if it is above the
// recorded one, in one script (every replica sees the same record);
// ErrAlreadyUsed otherwise. A step whose expiresAt has passed is not
// recorded.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64, expiresAt time.Time) error {
	const op = "use TOTP step"
	now := s.now()
	n, err := totpScript.Run(ctx, s.w, []string{s.totpKey(userID)},
		micros(now), strconv.FormatInt(step, 10), micros(expiresAt), ttlMillis(expiresAt, now)).Int()
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return sentinel(op, store.ErrAlreadyUsed)
	}
	return nil
}
