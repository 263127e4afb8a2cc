package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/customerhub/hubid/store"
)

// errChangedKey is returned when an update closure changes a field the
// record is keyed or indexed by.
var errChangedKey = errors.New("store/memory: update must not change ID or UserID")

// clampSession keeps the idle expiry within the absolute end.
func clampSession(x *store.Session) {
	if !x.AbsoluteEnd.IsZero() && x.ExpiresAt.After(x.AbsoluteEnd) {
		x.ExpiresAt = x.AbsoluteEnd
	}
}

// CreateSession stores a new session; ErrAlreadyExists if a live session
// has the same ID. ExpiresAt is clamped to AbsoluteEnd; a session already
// expired is not stored.
func (s *Store) CreateSession(_ context.Context, x store.Session) error {
	now := s.begin()
	defer s.mu.Unlock()
	if old, ok := s.sessions[x.ID]; ok && live(old.ExpiresAt, now) {
		return fmt.Errorf("store/memory: create session: %w", store.ErrAlreadyExists)
	}
	clampSession(&x)
	s.removeSession(x.ID)
	if !live(x.ExpiresAt, now) {
		return nil
	}
	s.putSession(cloneSession(x))
	return nil
}

// putSession stores x and indexes it by user; s.mu must be held.
func (s *Store) putSession(x store.Session) {
	s.sessions[x.ID] = x
	ids := s.byUser[x.UserID]
	if ids == nil {
		ids = map[string]struct{}{}
		s.byUser[x.UserID] = ids
	}
	ids[x.ID] = struct{}{}
}

// removeSession deletes a session and its index entry; s.mu must be held.
func (s *Store) removeSession(id string) {
	x, ok := s.sessions[id]
	if !ok {
		return
	}
	delete(s.sessions, id)
	if ids := s.byUser[x.UserID]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(s.byUser, x.UserID)
		}
	}
}

// GetSession returns a live session or ErrNotFound.
func (s *Store) GetSession(_ context.Context, id string) (store.Session, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[id]
	if !ok || !live(x.ExpiresAt, now) {
		return store.Session{}, fmt.Errorf("store/memory: get session: %w", store.ErrNotFound)
	}
	return cloneSession(x), nil
}

// UpdateSession applies fn to a copy of the session under the store's lock
// and stores the result; fn must not call the store. An error from fn is
// returned as is and nothing changes. fn must not change ID or UserID.
// ExpiresAt is clamped to AbsoluteEnd; a session whose new ExpiresAt has
// passed is deleted (and returned).
func (s *Store) UpdateSession(_ context.Context, id string, fn func(*store.Session) error) (store.Session, error) {
	now := s.begin()
	defer s.mu.Unlock()
	old, ok := s.sessions[id]
	if !ok || !live(old.ExpiresAt, now) {
		return store.Session{}, fmt.Errorf("store/memory: update session: %w", store.ErrNotFound)
	}
	x := cloneSession(old)
	if err := fn(&x); err != nil {
		return store.Session{}, err
	}
	if x.ID != old.ID || x.UserID != old.UserID {
		return store.Session{}, errChangedKey
	}
	clampSession(&x)
	s.removeSession(id)
	if live(x.ExpiresAt, now) {
		s.putSession(cloneSession(x))
	}
	return x, nil
}

// TouchSession sets the session's LastSeen and ExpiresAt. Under the
// store's lock there is nothing to gain from comparing with x: it is
// UpdateSession.
func (s *Store) TouchSession(ctx context.Context, x store.Session, lastSeen, expiresAt time.Time) (store.Session, error) {
	return s.UpdateSession(ctx, x.ID, func(x *store.Session) error {
		x.LastSeen, x.ExpiresAt = lastSeen, expiresAt
		return nil
	})
}

// DeleteSession removes a session; ErrNotFound if there is no live one.
func (s *Store) DeleteSession(_ context.Context, id string) error {
	now := s.begin()
	defer s.mu.Unlock()
	x, ok := s.sessions[id]
	s.removeSession(id)
	if !ok || !live(x.ExpiresAt, now) {
		return fmt.Errorf("store/memory: delete session: %w", store.ErrNotFound)
	}
	return nil
}

// ListUserSessions returns the user's live sessions, oldest first.
func (s *Store) ListUserSessions(_ context.Context, userID string) ([]store.Session, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Session
	for id := range s.byUser[userID] {
		if x := s.sessions[id]; live(x.ExpiresAt, now) {
			out = append(out, cloneSession(x))
		}
	}
	sortSessions(out)
	return out, nil
}

func sortSessions(xs []store.Session) {
	slices.SortFunc(xs, func(a, b store.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// CreateAuthRequest stores a new request; ErrAlreadyExists if a live one
// has the same ID. A request already expired is not stored.
func (s *Store) CreateAuthRequest(_ context.Context, r store.AuthRequest) error {
	now := s.begin()
	defer s.mu.Unlock()
	if old, ok := s.authReqs[r.ID]; ok && live(old.ExpiresAt, now) {
		return fmt.Errorf("store/memory: create auth request: %w", store.ErrAlreadyExists)
	}
	delete(s.authReqs, r.ID)
	if live(r.ExpiresAt, now) {
		s.authReqs[r.ID] = cloneAuthRequest(r)
	}
	return nil
}

// GetAuthRequest returns a live request or ErrNotFound.
func (s *Store) GetAuthRequest(_ context.Context, id string) (store.AuthRequest, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.authReqs[id]
	if !ok || !live(r.ExpiresAt, now) {
		return store.AuthRequest{}, fmt.Errorf("store/memory: get auth request: %w", store.ErrNotFound)
	}
	return cloneAuthRequest(r), nil
}

// UpdateAuthRequest applies fn like UpdateSession does; fn must not change
// ID.
func (s *Store) UpdateAuthRequest(_ context.Context, id string, fn func(*store.AuthRequest) error) (store.AuthRequest, error) {
	now := s.begin()
	defer s.mu.Unlock()
	old, ok := s.authReqs[id]
	if !ok || !live(old.ExpiresAt, now) {
		return store.AuthRequest{}, fmt.Errorf("store/memory: update auth request: %w", store.ErrNotFound)
	}
	r := cloneAuthRequest(old)
	if err := fn(&r); err != nil {
		return store.AuthRequest{}, err
	}
	if r.ID != old.ID {
		return store.AuthRequest{}, errChangedKey
	}
	delete(s.authReqs, id)
	if live(r.ExpiresAt, now) {
		s.authReqs[id] = cloneAuthRequest(r)
	}
	return r, nil
}

// DeleteAuthRequest removes a request; ErrNotFound if there is no live one.
func (s *Store) DeleteAuthRequest(_ context.Context, id string) error {
	now := s.begin()
	defer s.mu.Unlock()
	r, ok := s.authReqs[id]
	delete(s.authReqs, id)
	if !ok || !live(r.ExpiresAt, now) {
		return fmt.Errorf("store/memory: delete auth request: %w", store.ErrNotFound)
	}
	return nil
}
