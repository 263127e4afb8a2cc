package memory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/customerhub/hubid/store"
)

var (
	errNoFamily    = errors.New("store/memory: refresh token without FamilyID")
	errNextExpired = errors.New("store/memory: rotate refresh token: successor already expired")
	errWindow      = errors.New("store/memory: hit counter: window must be positive")
)

// CreateAuthCode stores a new code; ErrAlreadyExists if a live code has
// the same ID. A code already expired is not stored.
func (s *Store) CreateAuthCode(_ context.Context, c store.AuthCode) error {
	now := s.begin()
	defer s.mu.Unlock()
	if old, ok := s.codes[c.ID]; ok && live(old.ExpiresAt, now) {
		return fmt.Errorf("store/memory: create auth code: %w", store.ErrAlreadyExists)
	}
	delete(s.codes, c.ID)
	if live(c.ExpiresAt, now) {
		s.codes[c.ID] = c
	}
	return nil
}

// ConsumeAuthCode sets ConsumedAt and returns the code; a second call
// returns the record with ErrAlreadyUsed.
func (s *Store) ConsumeAuthCode(_ context.Context, id string) (store.AuthCode, error) {
	now := s.begin()
	defer s.mu.Unlock()
	c, ok := s.codes[id]
	if !ok || !live(c.ExpiresAt, now) {
		return store.AuthCode{}, fmt.Errorf("store/memory: consume auth code: %w", store.ErrNotFound)
	}
	if !c.ConsumedAt.IsZero() {
		return c, fmt.Errorf("store/memory: consume auth code: %w", store.ErrAlreadyUsed)
	}
	c.ConsumedAt = now
	s.codes[id] = c
	return c, nil
}

// familyRevoked reports whether a live family is revoked; s.mu must be held.
func (s *Store) familyRevoked(id string, now time.Time) bool {
	f, ok := s.families[id]
	return ok && f.revoked && live(f.until, now)
}

// extendFamily makes the family outlive a token expiring at until; s.mu
// must be held.
func (s *Store) extendFamily(id string, until, now time.Time) {
	f := s.families[id]
	if !live(f.until, now) {
		f = family{}
	}
	if until.After(f.until) {
		f.until = until
	}
	s.families[id] = f
}

// putToken stores a live token and extends its family; s.mu must be held.
func (s *Store) putToken(t store.RefreshToken, now time.Time) {
	s.tokens[t.ID] = cloneRefreshToken(t)
	s.extendFamily(t.FamilyID, t.ExpiresAt, now)
}

// tokenTaken reports whether a live token has the ID; s.mu must be held.
func (s *Store) tokenTaken(id string, now time.Time) bool {
	t, ok := s.tokens[id]
	return ok && live(t.ExpiresAt, now)
}

// CreateRefreshToken stores a new token; ErrAlreadyExists if a live token
// has the same ID. A token already expired is not stored.
func (s *Store) CreateRefreshToken(_ context.Context, t store.RefreshToken) error {
	if t.FamilyID == "" {
		return errNoFamily
	}
	now := s.begin()
	defer s.mu.Unlock()
	if s.tokenTaken(t.ID, now) {
		return fmt.Errorf("store/memory: create refresh token: %w", store.ErrAlreadyExists)
	}
	delete(s.tokens, t.ID)
	if live(t.ExpiresAt, now) {
		s.putToken(t, now)
	}
	return nil
}

// GetRefreshToken returns a live token; when its family is revoked it
// returns the record with ErrRevoked.
func (s *Store) GetRefreshToken(_ context.Context, familyID, id string) (store.RefreshToken, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok || t.FamilyID != familyID || !live(t.ExpiresAt, now) {
		return store.RefreshToken{}, fmt.Errorf("store/memory: get refresh token: %w", store.ErrNotFound)
	}
	if s.familyRevoked(t.FamilyID, now) {
		return cloneRefreshToken(t), fmt.Errorf("store/memory: get refresh token: %w", store.ErrRevoked)
	}
	return cloneRefreshToken(t), nil
}

// RotateRefreshToken implements store.RefreshStore.RotateRefreshToken.
// The old record is returned, with RotatedAt and ReplacedBy as stored after the call, also
// together with ErrAlreadyUsed or ErrRevoked.
func (s *Store) RotateRefreshToken(_ context.Context, oldID string, next store.RefreshToken, grace time.Duration) (store.RefreshToken, error) {
	if next.FamilyID == "" {
		return store.RefreshToken{}, errNoFamily
	}
	now := s.begin()
	defer s.mu.Unlock()
	old, ok := s.tokens[oldID]
	if !ok || old.FamilyID != next.FamilyID || !live(old.ExpiresAt, now) {
		return store.RefreshToken{}, fmt.Errorf("store/memory: rotate refresh token: %w", store.ErrNotFound)
	}
	if !live(next.ExpiresAt, now) {
		return store.RefreshToken{}, errNextExpired
	}
	if s.familyRevoked(old.FamilyID, now) {
		return cloneRefreshToken(old), fmt.Errorf("store/memory: rotate refresh token: %w", store.ErrRevoked)
	}
	exists := fmt.Errorf("store/memory: rotate refresh token: %w", store.ErrAlreadyExists)
	before := cloneRefreshToken(old)
	if old.RotatedAt.IsZero() {
		if s.tokenTaken(next.ID, now) {
			return store.RefreshToken{}, exists
		}
		old.RotatedAt, old.ReplacedBy = now, next.ID
		s.tokens[oldID] = old
		s.putToken(next, now)
		return before, nil
	}
	// grace 0 means no retry, even for a clock that reads earlier than
	// the rotation (an injected clock, another caller's reading).
	if grace > 0 && now.Sub(old.RotatedAt) < grace {
		succ, ok := s.tokens[old.ReplacedBy]
		if ok && live(succ.ExpiresAt, now) && succ.RotatedAt.IsZero() {
			if s.tokenTaken(next.ID, now) {
				return store.RefreshToken{}, exists
			}
			// Under the same lock as the replacement: no moment where
			// the replaced successor's access token and next's are both
			// valid.
			s.revoke(succ.AccessID, succ.AccessExpiresAt, now)
			delete(s.tokens, succ.ID)
			old.ReplacedBy = next.ID
			s.tokens[oldID] = old
			s.putToken(next, now)
			return before, nil
		}
	}
	// Reuse of a rotated token: the family is compromised.
	s.extendFamily(old.FamilyID, old.ExpiresAt, now)
	f := s.families[old.FamilyID]
	f.revoked = true
	s.families[old.FamilyID] = f
	return cloneRefreshToken(old), fmt.Errorf("store/memory: rotate refresh token: %w", store.ErrAlreadyUsed)
}

// RevokeFamily revokes the family until expiresAt or until its last known
// token expires, whichever is later.
func (s *Store) RevokeFamily(_ context.Context, familyID string, expiresAt time.Time) error {
	now := s.begin()
	defer s.mu.Unlock()
	s.extendFamily(familyID, expiresAt, now)
	f := s.families[familyID]
	if !live(f.until, now) {
		delete(s.families, familyID)
		return nil
	}
	f.revoked = true
	s.families[familyID] = f
	return nil
}

// IsFamilyRevoked reports whether the family is revoked.
func (s *Store) IsFamilyRevoked(_ context.Context, familyID string) (bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.familyRevoked(familyID, now), nil
}

// RevokeToken remembers id until expiresAt; a later call can extend that,
// not shorten it.
func (s *Store) RevokeToken(_ context.Context, id string, expiresAt time.Time) error {
	now := s.begin()
	defer s.mu.Unlock()
	s.revoke(id, expiresAt, now)
	return nil
}

// revoke remembers id until expiresAt (never shortening); "" is no ID.
// s.mu must be held.
func (s *Store) revoke(id string, expiresAt, now time.Time) {
	if id == "" {
		return
	}
	if cur, ok := s.revoked[id]; ok && live(cur, now) && !expiresAt.After(cur) {
		return
	}
	if live(expiresAt, now) {
		s.revoked[id] = expiresAt
	}
}

// IsTokenRevoked reports whether id is remembered as revoked.
func (s *Store) IsTokenRevoked(_ context.Context, ids ...string) (bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if until, ok := s.revoked[id]; ok && live(until, now) {
			return true, nil
		}
	}
	return false, nil
}

// HitCounter counts a hit in key's current window, opening a window of
// length window when there is none.
func (s *Store) HitCounter(_ context.Context, key string, window time.Duration) (int64, time.Time, error) {
	if window <= 0 {
		return 0, time.Time{}, errWindow
	}
	now := s.begin()
	defer s.mu.Unlock()
	c := s.counters[key]
	if !live(c.end, now) {
		c = counter{end: now.Add(window)}
	}
	c.count++
	s.counters[key] = c
	return c.count, c.end, nil
}

// GetCounter returns the count of key's current window and its end, or 0
// and the zero time when there is no window.
func (s *Store) GetCounter(_ context.Context, key string) (int64, time.Time, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[key]
	if !ok || !live(c.end, now) {
		return 0, time.Time{}, nil
	}
	return c.count, c.end, nil
}

// ResetCounter forgets key's window.
func (s *Store) ResetCounter(_ context.Context, key string) error {
	s.begin()
	defer s.mu.Unlock()
	delete(s.counters, key)
	return nil
}

// UseTOTPStep makes step userID's last used TOTP step if it is above the
// recorded one (compare-and-set under the store's lock); ErrAlreadyUsed
// otherwise. A step whose expiresAt has passed is not recorded.
func (s *Store) UseTOTPStep(_ context.Context, userID string, step int64, expiresAt time.Time) error {
	now := s.begin()
	defer s.mu.Unlock()
	if x, ok := s.totp[userID]; ok && live(x.until, now) && x.step >= step {
		return fmt.Errorf("store/memory: use TOTP step: %w", store.ErrAlreadyUsed)
	}
	if live(expiresAt, now) {
		s.totp[userID] = lastStep{step: step, until: expiresAt}
	}
	return nil
}
