package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/store"
)

// maxUpdateAttempts bounds the WATCH retries of one update. Every failed
// attempt means another update of the same record committed, so n
// concurrent updaters of one record need at most n attempts each.
const maxUpdateAttempts = 100

var errChangedKey = errors.New("store/redis: update must not change ID or UserID")

// clampSession keeps the idle expiry within the absolute end.
func clampSession(x *store.Session) {
	if !x.AbsoluteEnd.IsZero() && x.ExpiresAt.After(x.AbsoluteEnd) {
		x.ExpiresAt = x.AbsoluteEnd
	}
}

// create stores rec under key unless a live record exists there; extra
// are field/value pairs stored beside the JSON.
func (s *Store) create(ctx context.Context, op, key string, rec any, exp, now time.Time, extra ...any) error {
	args, err := createArgs(op, rec, exp, now, extra...)
	if err != nil {
		return err
	}
	n, err := createScript.Run(ctx, s.w, []string{key}, args...).Int()
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return sentinel(op, store.ErrAlreadyExists)
	}
	return nil
}

// createArgs are createScript's arguments for rec.
func createArgs(op string, rec any, exp, now time.Time, extra ...any) ([]any, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("store/redis: %s: encode: %w", op, err)
	}
	return append([]any{micros(now), data, micros(exp), ttlMillis(exp, now)}, extra...), nil
}

// get reads the JSON record under key into rec; ErrNotFound when absent.
// The caller checks expiry, which only it can read from rec.
func (s *Store) get(ctx context.Context, op, key string, rec any) error {
	v, err := s.c.HGet(ctx, key, "v").Bytes()
	if errors.Is(err, goredis.Nil) {
		return sentinel(op, store.ErrNotFound)
	}
	if err != nil {
		return s.fail(op, err)
	}
	if err := json.Unmarshal(v, rec); err != nil {
		return fmt.Errorf("store/redis: %s: decode: %w", op, err)
	}
	return nil
}

// del deletes the record under key and decodes it into rec; ErrNotFound
// when absent.
func (s *Store) del(ctx context.Context, op, key string, rec any) error {
	v, err := deleteScript.Run(ctx, s.w, []string{key}).Text()
	if errors.Is(err, goredis.Nil) {
		return sentinel(op, store.ErrNotFound)
	}
	if err != nil {
		return s.fail(op, err)
	}
	if err := json.Unmarshal([]byte(v), rec); err != nil {
		return fmt.Errorf("store/redis: %s: decode: %w", op, err)
	}
	return nil
}

// final carries an error out of a WATCH callback that is not Redis's:
// the closure's own error, a sentinel, a decode failure. It is returned as
// is, never retried nor classified as unavailability.
type final struct{ err error }

func (e final) Error() string { return e.err.Error() }

// update runs fn on the record under key inside WATCH/MULTI, retrying
// when another writer commits first. expires reads a record's ExpiresAt;
// fix validates and normalizes the new record against the old one. A
// record whose new ExpiresAt has passed is deleted. fn may run more than
// once; an error from fn is returned as is.
func update[T any](ctx context.Context, s *Store, op, key string, expires func(*T) time.Time, fix func(old, cur *T) error, fn func(*T) error) (T, error) {
	var zero T
	for range maxUpdateAttempts {
		var out T
		err := s.c.Watch(ctx, func(tx *goredis.Tx) error {
			now := s.now()
			v, err := tx.HGet(ctx, key, "v").Bytes()
			if errors.Is(err, goredis.Nil) {
				return final{sentinel(op, store.ErrNotFound)}
			}
			if err != nil {
				return err
			}
			var old, cur T
			if err := json.Unmarshal(v, &old); err != nil {
				return final{fmt.Errorf("store/redis: %s: decode: %w", op, err)}
			}
			if !live(expires(&old), now) {
				return final{sentinel(op, store.ErrNotFound)}
			}
			_ = json.Unmarshal(v, &cur) // a fresh copy: fn must not alias old
			if err := fn(&cur); err != nil {
				return final{err}
			}
			if err := fix(&old, &cur); err != nil {
				return final{err}
			}
			data, err := json.Marshal(cur)
			if err != nil {
				return final{fmt.Errorf("store/redis: %s: encode: %w", op, err)}
			}
			exp := expires(&cur)
			ttl := ttlMillis(exp, now)
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				if ttl <= 0 {
					p.Del(ctx, key)
					return nil
				}
				p.HSet(ctx, key, "v", data, "e", micros(exp))
				p.PExpire(ctx, key, time.Duration(ttl)*time.Millisecond)
				return nil
			})
			if err == nil {
				err = s.waitTx(ctx, tx)
			}
			out = cur
			return err
		}, key)
		var f final
		switch {
		case err == nil:
			return out, nil
		case errors.As(err, &f):
			return zero, f.err
		case errors.Is(err, goredis.TxFailedErr):
			continue
		default:
			return zero, s.fail(op, err)
		}
	}
	return zero, fmt.Errorf("store/redis: %s: gave up after %d attempts under contention: %w", op, maxUpdateAttempts, store.ErrUnavailable)
}

// CreateSession stores a new session and indexes it by user;
// ErrAlreadyExists if a live session has the ID. ExpiresAt is clamped to
// AbsoluteEnd; a session already expired is not stored.
func (s *Store) CreateSession(ctx context.Context, x store.Session) error {
	const op = "create session"
	now := s.now()
	clampSession(&x)
	if err := s.create(ctx, op, s.sessionKey(x.ID), sessionJSON(x), x.ExpiresAt, now); err != nil {
		return err
	}
	ttl := ttlMillis(x.ExpiresAt, now)
	if ttl <= 0 {
		return nil
	}
	// The session is written first and indexed second: a reader of the
	// index never prunes a session that is about to exist.
	if err := indexAddScript.Run(ctx, s.w, []string{s.userKey(x.UserID)}, x.ID, ttl).Err(); err != nil {
		_ = s.c.Del(ctx, s.sessionKey(x.ID)).Err() // best effort; it expires anyway
		return s.fail(op, err)
	}
	return nil
}

// GetSession returns a live session or ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	const op = "get session"
	var x sessionJSON
	if err := s.get(ctx, op, s.sessionKey(id), &x); err != nil {
		return store.Session{}, err
	}
	if !live(x.ExpiresAt, s.now()) {
		return store.Session{}, sentinel(op, store.ErrNotFound)
	}
	x.ID = id // the compact form leaves it to the key
	return store.Session(x), nil
}

func sessionExpires(x *sessionJSON) time.Time { return x.ExpiresAt }

// fixSessionOf checks and normalizes an update of session id.
func fixSessionOf(id string) func(old, cur *sessionJSON) error {
	return func(old, cur *sessionJSON) error {
		old.ID = id
		if cur.ID != old.ID || cur.UserID != old.UserID {
			return errChangedKey
		}
		clampSession((*store.Session)(cur))
		return nil
	}
}

// UpdateSession applies fn atomically (WATCH/MULTI, retried when another
// update commits first, so fn may run more than once). fn must not change
// ID or UserID. ExpiresAt is clamped to AbsoluteEnd and sets the TTL; a
// session whose new ExpiresAt has passed is deleted (and returned).
func (s *Store) UpdateSession(ctx context.Context, id string, fn func(*store.Session) error) (store.Session, error) {
	const op = "update session"
	x, err := update(ctx, s, op, s.sessionKey(id), sessionExpires, fixSessionOf(id), func(x *sessionJSON) error {
		x.ID = id
		return fn((*store.Session)(x))
	})
	if err != nil {
		return store.Session{}, err
	}
	if ttl := ttlMillis(x.ExpiresAt, s.now()); ttl > 0 {
		if err := indexAddScript.Run(ctx, s.w, []string{s.userKey(x.UserID)}, x.ID, ttl).Err(); err != nil {
			return store.Session{}, s.fail(op, err)
		}
	}
	return store.Session(x), nil
}

// TouchSession sets LastSeen and ExpiresAt of x, the session as read. The
// stored JSON is compared with x's encoding and replaced in one script
// (no WATCH, no decoding); when it differs (another write came between,
// or x was read from an earlier encoding) it is UpdateSession.
func (s *Store) TouchSession(ctx context.Context, x store.Session, lastSeen, expiresAt time.Time) (store.Session, error) {
	const op = "touch session"
	now := s.now()
	cur := x
	cur.LastSeen, cur.ExpiresAt = lastSeen, expiresAt
	clampSession(&cur)
	if ttl := ttlMillis(cur.ExpiresAt, now); ttl > 0 {
		old, err := json.Marshal(sessionJSON(x))
		if err != nil {
			return store.Session{}, fmt.Errorf("store/redis: %s: encode: %w", op, err)
		}
		data, err := json.Marshal(sessionJSON(cur))
		if err != nil {
			return store.Session{}, fmt.Errorf("store/redis: %s: encode: %w", op, err)
		}
		n, err := touchScript.Run(ctx, s.w, []string{s.sessionKey(x.ID)},
			micros(now), old, data, micros(cur.ExpiresAt), ttl).Int()
		if err != nil {
			return store.Session{}, s.fail(op, err)
		}
		if n == 1 {
			if err := indexAddScript.Run(ctx, s.w, []string{s.userKey(cur.UserID)}, cur.ID, ttl).Err(); err != nil {
				return store.Session{}, s.fail(op, err)
			}
			return cur, nil
		}
	}
	return s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.LastSeen, x.ExpiresAt = lastSeen, expiresAt
		return nil
	})
}

// DeleteSession removes a session; ErrNotFound if there is no live one.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	const op = "delete session"
	var x sessionJSON
	if err := s.del(ctx, op, s.sessionKey(id), &x); err != nil {
		return err
	}
	if err := s.c.SRem(ctx, s.userKey(x.UserID), id).Err(); err != nil {
		return s.fail(op, err)
	}
	if !live(x.ExpiresAt, s.now()) {
		return sentinel(op, store.ErrNotFound)
	}
	return nil
}

// ListUserSessions returns the user's live sessions, oldest first, and
// prunes dead IDs from the user's index.
func (s *Store) ListUserSessions(ctx context.Context, userID string) ([]store.Session, error) {
	const op = "list user sessions"
	ukey := s.userKey(userID)
	ids, err := s.c.SMembers(ctx, ukey).Result()
	if err != nil {
		return nil, s.fail(op, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// A plain pipeline: Cluster splits it by node (MGET would need one slot).
	cmds := make([]*goredis.StringCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, s.sessionKey(id), "v")
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.fail(op, err)
	}
	now := s.now()
	var out []store.Session
	var dead []any
	for i, cmd := range cmds {
		v, err := cmd.Bytes()
		var x sessionJSON
		switch {
		case errors.Is(err, goredis.Nil):
			dead = append(dead, ids[i])
			continue
		case err != nil:
			return nil, s.fail(op, err)
		}
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, fmt.Errorf("store/redis: %s: decode: %w", op, err)
		}
		if x.UserID != userID || !live(x.ExpiresAt, now) {
			dead = append(dead, ids[i])
			continue
		}
		x.ID = ids[i]
		out = append(out, store.Session(x))
	}
	if len(dead) > 0 {
		if err := s.c.SRem(ctx, ukey, dead...).Err(); err != nil {
			return nil, s.fail(op, err)
		}
	}
	slices.SortFunc(out, func(a, b store.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// CreateAuthRequest stores a new request; ErrAlreadyExists if a live one
// has the ID. A request already expired is not stored.
func (s *Store) CreateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	return s.create(ctx, "create auth request", s.authReqKey(r.ID), r, r.ExpiresAt, s.now())
}

// GetAuthRequest returns a live request or ErrNotFound.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	const op = "get auth request"
	var r store.AuthRequest
	if err := s.get(ctx, op, s.authReqKey(id), &r); err != nil {
		return store.AuthRequest{}, err
	}
	if !live(r.ExpiresAt, s.now()) {
		return store.AuthRequest{}, sentinel(op, store.ErrNotFound)
	}
	return r, nil
}

func authReqExpires(r *store.AuthRequest) time.Time { return r.ExpiresAt }

func fixAuthReq(old, cur *store.AuthRequest) error {
	if cur.ID != old.ID {
		return errChangedKey
	}
	return nil
}

// UpdateAuthRequest applies fn like UpdateSession does; fn must not
// change ID.
func (s *Store) UpdateAuthRequest(ctx context.Context, id string, fn func(*store.AuthRequest) error) (store.AuthRequest, error) {
	return update(ctx, s, "update auth request", s.authReqKey(id), authReqExpires, fixAuthReq, fn)
}

// DeleteAuthRequest removes a request; ErrNotFound if there is no live one.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	const op = "delete auth request"
	var r store.AuthRequest
	if err := s.del(ctx, op, s.authReqKey(id), &r); err != nil {
		return err
	}
	if !live(r.ExpiresAt, s.now()) {
		return sentinel(op, store.ErrNotFound)
	}
	return nil
}
