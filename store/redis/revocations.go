package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Revoked token IDs (access tokens' jti, grants) live in one sorted set,
// member = ID, score = until when (Unix µs), and every revocation is also
// published on a channel. Each Store keeps a mirror of the set in memory,
// fed by that channel, so that IsTokenRevoked — asked on every userinfo
// and introspection request — costs no round trip. The mirror is used only
// while it is known to be complete:
//
//   - it is loaded from the set after every (re)subscription, so nothing
//     published while this Store was not listening is missed;
//   - any error on the subscription empties it and marks it unusable
//     until the next load;
//   - it counts as current only if the server was heard from within
//     mirrorFresh (a silent connection is pinged after mirrorPing), so a
//     half-open connection cannot keep a stale mirror in use.
//
// Whenever the mirror is unusable, IsTokenRevoked asks Redis (one ZMSCORE).
// A revocation is visible at once on the Store that made it and, on other
// replicas, as soon as the published message arrives (the channel's
// delivery delay; a few milliseconds on one network).

const (
	mirrorPing  = time.Second     // ping a subscription silent this long
	mirrorFresh = 3 * time.Second // trust the mirror only if heard from this recently
)

func (s *Store) revocationsKey() string     { return s.prefix + "revocations" }
func (s *Store) revocationsChannel() string { return s.prefix + "revocations" }

// revokeTokenScript remembers a revoked ID; it can extend, not shorten.
// It trims expired entries, keeps the key alive as long as its latest
// entry and publishes the revocation. KEYS[1] set. ARGV: now, expires (µs),
// ID, channel. Returns 1 when it changed the set.
var revokeTokenScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local e = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if e <= now then return 0 end
local cur = redis.call('ZSCORE', KEYS[1], ARGV[3])
if cur and tonumber(cur) >= e then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(top[2]) - now) / 1000))
redis.call('PUBLISH', ARGV[4], ARGV[2] .. ' ' .. ARGV[3])
return 1
`)

// RevokeToken remembers id until expiresAt; a later call can extend that,
// not shorten it.
func (s *Store) RevokeToken(ctx context.Context, id string, expiresAt time.Time) error {
	now := s.now()
	err := revokeTokenScript.Run(ctx, s.w, []string{s.revocationsKey()},
		micros(now), micros(expiresAt), id, s.revocationsChannel()).Err()
	if err != nil {
		return s.fail("revoke token", err)
	}
	s.mirror.add(id, expiresAt.UnixMicro())
	return nil
}

// IsTokenRevoked reports whether any of ids is remembered as revoked: from
// the mirror when it is current, else with one ZMSCORE.
func (s *Store) IsTokenRevoked(ctx context.Context, ids ...string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	now := s.now().UnixMicro()
	if revoked, ok := s.mirror.check(ids, now, time.Now()); ok {
		return revoked, nil
	}
	scores, err := s.c.ZMScore(ctx, s.revocationsKey(), ids...).Result()
	if err != nil {
		return false, s.fail("is token revoked", err)
	}
	for _, sc := range scores {
		if int64(sc) > now {
			return true, nil
		}
	}
	return false, nil
}

// mirror is the in-memory copy of the revocation set.
type mirror struct {
	mu    sync.RWMutex
	ready bool             // loaded since the last subscription error
	heard time.Time        // last message or reply from the subscription
	ids   map[string]int64 // ID → until (Unix µs)
}

func newMirror() *mirror { return &mirror{ids: map[string]int64{}} }

// check answers from the mirror; ok is false when it cannot be trusted.
func (m *mirror) check(ids []string, now int64, wall time.Time) (revoked, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.ready || wall.Sub(m.heard) > mirrorFresh {
		return false, false
	}
	for _, id := range ids {
		if m.ids[id] > now {
			return true, true
		}
	}
	return false, true
}

// add records a revocation, keeping the later of two expiries.
func (m *mirror) add(id string, until int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if until > m.ids[id] {
		m.ids[id] = until
	}
}

// load replaces the mirror with the set's entries and marks it usable.
func (m *mirror) load(entries []goredis.Z, wall time.Time) {
	ids := make(map[string]int64, len(entries))
	for _, z := range entries {
		if id, ok := z.Member.(string); ok {
			ids[id] = int64(z.Score)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Revocations this Store made or received while loading stay.
	for id, until := range m.ids {
		if until > ids[id] {
			ids[id] = until
		}
	}
	m.ids, m.ready, m.heard = ids, true, wall
}

// usable reports whether check would answer.
func (m *mirror) usable(wall time.Time) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ready && wall.Sub(m.heard) <= mirrorFresh
}

// hear notes that the subscription is alive.
func (m *mirror) hear(wall time.Time) {
	m.mu.Lock()
	m.heard = wall
	m.mu.Unlock()
}

// reset empties the mirror and marks it unusable.
func (m *mirror) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ids, m.ready = map[string]int64{}, false
}

// purge drops entries expired at now.
func (m *mirror) purge(now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, until := range m.ids {
		if until <= now {
			delete(m.ids, id)
		}
	}
}

// RevocationMirrorUsable reports whether revocation checks are answered
// from memory now (for a metric); false means each check asks Redis.
func (s *Store) RevocationMirrorUsable() bool { return s.mirror.usable(time.Now()) }

// followRevocations keeps the mirror in step with Redis until ctx ends,
// resubscribing with backoff after errors. It logs when the mirror is
// lost and when it is back, not every failed attempt in between.
func (s *Store) followRevocations(ctx context.Context) {
	backoff := 50 * time.Millisecond
	down := false // logged as lost, not yet back
	for ctx.Err() == nil {
		start := time.Now()
		loaded, err := s.followOnce(ctx)
		s.mirror.reset()
		if ctx.Err() != nil {
			return
		}
		// Log once per loss: when a loaded mirror ends, or the first
		// attempt fails; not on every failed retry in between.
		if loaded || !down {
			down = true
			s.log.Warn("revocation mirror lost: revocation checks ask Redis until it is back", slog.Any("err", err))
		}
		if loaded || time.Since(start) > 10*time.Second {
			backoff = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// followOnce subscribes, loads the set once the subscription is active and
// applies published revocations, until an error, which it returns; loaded
// reports whether the mirror was loaded on the way.
func (s *Store) followOnce(ctx context.Context) (loaded bool, err error) {
	// The invalidation channel first: its "forget everything" must come
	// before the revocation load makes the Store fresh again.
	ps := s.c.Subscribe(ctx, s.invalidationsChannel(), s.revocationsChannel())
	defer ps.Close()
	// A blocked read does not watch ctx; closing the subscription ends it.
	defer context.AfterFunc(ctx, func() { _ = ps.Close() })()
	pinged := false
	purged := time.Now()
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, mirrorPing)
		if err != nil {
			if !isTimeout(err) {
				return loaded, err
			}
			if pinged {
				return loaded, errors.New("no answer to a ping")
			}
			if err := ps.Ping(ctx); err != nil {
				return loaded, err
			}
			pinged = true
			continue
		}
		pinged = false
		wall := time.Now()
		// Expired entries go at least once a minute, even when messages
		// never leave the subscription silent long enough for a ping.
		if wall.Sub(purged) > time.Minute {
			s.mirror.purge(s.now().UnixMicro())
			purged = wall
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind != "subscribe" {
				return loaded, fmt.Errorf("unexpected %s", m.Kind)
			}
			if m.Channel == s.invalidationsChannel() {
				// Announcements may have been missed before this
				// subscription: every cached record is suspect.
				s.inval.Call("", "")
				continue
			}
			// Subscribed first, loaded second: a revocation published in
			// between is both in the set and delivered.
			now := s.now()
			entries, err := s.c.ZRangeByScoreWithScores(ctx, s.revocationsKey(),
				&goredis.ZRangeBy{Min: "(" + micros(now), Max: "+inf"}).Result()
			if err != nil {
				return loaded, err
			}
			s.mirror.load(entries, wall)
			if !loaded {
				s.log.Debug("revocation mirror loaded", slog.Int("revocations", len(entries)))
			}
			loaded = true
		case *goredis.Message:
			if m.Channel == s.invalidationsChannel() {
				kind, id, ok := strings.Cut(m.Payload, " ")
				if !ok {
					return loaded, errors.New("malformed invalidation message")
				}
				s.inval.Call(kind, id)
				s.mirror.hear(wall)
				continue
			}
			until, id, ok := strings.Cut(m.Payload, " ")
			u, err := strconv.ParseInt(until, 10, 64)
			if !ok || err != nil {
				return loaded, errors.New("malformed revocation message") // not ours: trust nothing
			}
			s.mirror.add(id, u)
			s.mirror.hear(wall)
		case *goredis.Pong:
			s.mirror.hear(wall)
		}
	}
	return loaded, ctx.Err()
}

// isTimeout reports whether err is a read timeout (no message yet).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
