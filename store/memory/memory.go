// Package memory is the in-process backend of store.Ephemeral, used by
// `hubid dev` and by tests. One mutex guards every map, so each operation,
// including the single-use ones (code redemption, refresh rotation, TOTP
// steps, counters), is atomic. Expiry is judged with the injected clock:
// a record whose ExpiresAt is not after Now is reported as absent. Expired
// records are swept lazily, at most once per SweepInterval of the injected
// clock, by the next write, so memory does not grow without bound.
//
// State lives in one process and is not shared between replicas; Save and
// Load (persist.go) carry it across a restart, and Autosave (autosave.go)
// keeps that file at most about a second behind, which `hubid dev` does
// with a file in its data directory. Production uses store/redis.
package memory

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/customerhub/hubid/store"
)

// DefaultSweepInterval is how often (by the injected clock) writes sweep
// expired records when Options.SweepInterval is zero.
const DefaultSweepInterval = time.Minute

// Options configures a Store.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SweepInterval is the minimum time between two sweeps of expired
	// records; zero means DefaultSweepInterval.
	SweepInterval time.Duration
}

// Store is an in-memory store.Ephemeral. The zero value is not usable;
// call New.
type Store struct {
	now   func() time.Time
	every time.Duration

	mu        sync.Mutex
	lastSweep time.Time
	sessions  map[string]store.Session
	byUser    map[string]map[string]struct{} // user ID -> session IDs
	authReqs  map[string]store.AuthRequest
	codes     map[string]store.AuthCode
	tokens    map[string]store.RefreshToken
	families  map[string]family
	revoked   map[string]time.Time // token ID -> until
	counters  map[string]counter
	totp      map[string]lastStep // user -> last used TOTP step

	inval store.Callbacks // see invalidate.go

	changed chan struct{} // a running Autosave's signal; nil without one
}

// family is what the store knows of a refresh token family: until when a
// token of it may live (the latest ExpiresAt seen, extended by
// revocation), and whether it is revoked.
type family struct {
	until   time.Time
	revoked bool
}

type counter struct {
	count int64
	end   time.Time
}

// lastStep is an account's last used TOTP step and until when it matters.
type lastStep struct {
	step  int64
	until time.Time
}

var _ store.Ephemeral = (*Store)(nil)

// New returns an empty store.
func New(opt Options) *Store {
	s := &Store{
		now:      opt.Now,
		every:    opt.SweepInterval,
		sessions: map[string]store.Session{},
		byUser:   map[string]map[string]struct{}{},
		authReqs: map[string]store.AuthRequest{},
		codes:    map[string]store.AuthCode{},
		tokens:   map[string]store.RefreshToken{},
		families: map[string]family{},
		revoked:  map[string]time.Time{},
		counters: map[string]counter{},
		totp:     map[string]lastStep{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.every <= 0 {
		s.every = DefaultSweepInterval
	}
	return s
}

// Ping always succeeds.
func (s *Store) Ping(context.Context) error { return nil }

// Close does nothing; the store stays usable.
func (s *Store) Close() error { return nil }

// live reports whether a record expiring at exp still exists at now.
func live(exp, now time.Time) bool { return now.Before(exp) }

// begin locks the store for a write, sweeps it when a sweep is due,
// tells a running autosave, and returns the current time. The caller must
// unlock s.mu.
func (s *Store) begin() time.Time {
	now := s.now()
	s.mu.Lock()
	s.touch()
	if now.Sub(s.lastSweep) >= s.every {
		s.sweep(now)
		s.lastSweep = now
	}
	return now
}

// Sweep removes every expired record now. Writes call it on their own
// every SweepInterval; it is exported for tests and for a caller that
// wants to free memory at a moment of its choosing.
func (s *Store) Sweep() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.lastSweep = now
}

// sweep removes expired records; s.mu must be held.
func (s *Store) sweep(now time.Time) {
	for id, x := range s.sessions {
		if !live(x.ExpiresAt, now) {
			s.removeSession(id)
		}
	}
	for id, x := range s.authReqs {
		if !live(x.ExpiresAt, now) {
			delete(s.authReqs, id)
		}
	}
	for id, x := range s.codes {
		if !live(x.ExpiresAt, now) {
			delete(s.codes, id)
		}
	}
	for id, x := range s.tokens {
		if !live(x.ExpiresAt, now) {
			delete(s.tokens, id)
		}
	}
	for id, x := range s.families {
		if !live(x.until, now) {
			delete(s.families, id)
		}
	}
	for id, until := range s.revoked {
		if !live(until, now) {
			delete(s.revoked, id)
		}
	}
	for k, x := range s.counters {
		if !live(x.end, now) {
			delete(s.counters, k)
		}
	}
	for k, x := range s.totp {
		if !live(x.until, now) {
			delete(s.totp, k)
		}
	}
}

// size returns the number of records of every kind the store holds,
// expired or not; tests use it to check that sweeping frees memory.
func (s *Store) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions) + len(s.byUser) + len(s.authReqs) + len(s.codes) +
		len(s.tokens) + len(s.families) + len(s.revoked) + len(s.counters) + len(s.totp)
}

// Records are copied on the way in and out so that callers never share
// slices or pointers with the stored value.

func cloneSession(x store.Session) store.Session {
	x.AMR = slices.Clone(x.AMR)
	x.Clients = slices.Clone(x.Clients)
	x.OrgChoices = maps.Clone(x.OrgChoices)
	if x.PendingTOTP != nil {
		p := *x.PendingTOTP
		p.Sealed = slices.Clone(p.Sealed)
		x.PendingTOTP = &p
	}
	return x
}

func cloneAuthRequest(x store.AuthRequest) store.AuthRequest {
	x.Scopes = slices.Clone(x.Scopes)
	x.Prompt = slices.Clone(x.Prompt)
	x.UILocales = slices.Clone(x.UILocales)
	x.ACRValues = slices.Clone(x.ACRValues)
	x.AMR = slices.Clone(x.AMR)
	if x.MaxAge != nil {
		v := *x.MaxAge
		x.MaxAge = &v
	}
	if x.SecondStep != nil {
		st := *x.SecondStep
		st.PendingSecret = slices.Clone(st.PendingSecret)
		x.SecondStep = &st
	}
	return x
}

func cloneRefreshToken(x store.RefreshToken) store.RefreshToken {
	x.Scopes = slices.Clone(x.Scopes)
	x.Audience = slices.Clone(x.Audience)
	x.AMR = slices.Clone(x.AMR)
	return x
}
