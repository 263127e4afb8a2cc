// Package session manages browser SSO sessions: a new random ID at every
// sign-in (fixation is impossible), the cookie, the sliding idle expiry of
// "automatically sign in next time" (14 days by default, written at most
// once per touch interval) under an absolute cap, and browser-session
// cookies without it. Only a hash of the cookie value is stored, so a
// leaked session store yields no usable cookie.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/customerhub/hubid/store"
)

// Store is the session storage the manager needs.
type Store interface {
	CreateSession(ctx context.Context, s store.Session) error
	GetSession(ctx context.Context, id string) (store.Session, error)
	UpdateSession(ctx context.Context, id string, fn func(*store.Session) error) (store.Session, error)
	TouchSession(ctx context.Context, s store.Session, lastSeen, expiresAt time.Time) (store.Session, error)
	DeleteSession(ctx context.Context, id string) error
	ListUserSessions(ctx context.Context, userID string) ([]store.Session, error)
}

// Config configures the manager.
type Config struct {
	RememberIdle     time.Duration // sliding idle limit with "automatically sign in"
	RememberAbsolute time.Duration // cap on any session
	BrowserIdle      time.Duration // idle limit without it
	TouchInterval    time.Duration // at most one sliding write per interval
	Secure           bool          // https issuer: Secure cookie with the __Host- prefix
	Now              func() time.Time
	Rand             io.Reader
}

// Manager creates, finds, slides and ends sessions.
type Manager struct {
	cfg   Config
	store Store
}

// New returns a Manager.
func New(cfg Config, st Store) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Manager{cfg: cfg, store: st}
}

// CookieName is `__Host-hubid_session` on https. Browsers refuse the
// __Host- prefix without Secure, so on http (hubid dev) it is
// `hubid_session`.
func (m *Manager) CookieName() string {
	if m.cfg.Secure {
		return "__Host-hubid_session"
	}
	return "hubid_session"
}

// ID returns the stored ID of a cookie value: base64url(SHA-256(value)).
func ID(cookieValue string) string {
	h := sha256.Sum256([]byte(cookieValue))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// Params describe a new session.
type Params struct {
	UserID    string
	AuthTime  time.Time
	AMR       []string
	Remember  bool
	Clients   []string
	IP        string
	UserAgent string
}

// Create starts a new session with a fresh 256-bit ID and sets its cookie.
// Any session the browser had is ended first (no fixation, no stacking).
func (m *Manager) Create(ctx context.Context, w http.ResponseWriter, r *http.Request, p Params) (store.Session, error) {
	if c, err := r.Cookie(m.CookieName()); err == nil && c.Value != "" {
		if err := m.store.DeleteSession(ctx, ID(c.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Session{}, err
		}
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(m.cfg.Rand, raw); err != nil {
		return store.Session{}, fmt.Errorf("session id: %w", err)
	}
	value := base64.RawURLEncoding.EncodeToString(raw)
	now := m.cfg.Now()
	s := store.Session{
		ID: ID(value), UserID: p.UserID, AuthTime: p.AuthTime, AMR: p.AMR, Remember: p.Remember,
		CreatedAt: now, LastSeen: now, AbsoluteEnd: now.Add(m.cfg.RememberAbsolute),
		Clients: p.Clients, IP: p.IP, UserAgent: p.UserAgent,
	}
	s.ExpiresAt = m.idleEnd(s, now)
	if err := m.store.CreateSession(ctx, s); err != nil {
		return store.Session{}, err
	}
	m.setCookie(w, value, s, now)
	return s, nil
}

func (m *Manager) idleEnd(s store.Session, now time.Time) time.Time {
	idle := m.cfg.BrowserIdle
	if s.Remember {
		idle = m.cfg.RememberIdle
	}
	end := now.Add(idle)
	if s.AbsoluteEnd.Before(end) {
		return s.AbsoluteEnd
	}
	return end
}

// setCookie writes the cookie: persistent (Max-Age until the idle end)
// with "automatically sign in", a browser-session cookie otherwise.
func (m *Manager) setCookie(w http.ResponseWriter, value string, s store.Session, now time.Time) {
	c := &http.Cookie{
		Name: m.CookieName(), Value: value, Path: "/",
		HttpOnly: true, Secure: m.cfg.Secure, SameSite: http.SameSiteLaxMode,
	}
	if s.Remember {
		c.MaxAge = int(s.ExpiresAt.Sub(now).Seconds())
		c.Expires = s.ExpiresAt.UTC()
	}
	http.SetCookie(w, c)
}

// Clear deletes the cookie from the browser.
func (m *Manager) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: m.CookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: m.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

// Current returns the browser's live session. It slides the idle expiry
// (and renews a persistent cookie's Max-Age) when the last write is older
// than the touch interval. ok is false without a live session; a dead
// cookie is cleared.
func (m *Manager) Current(ctx context.Context, w http.ResponseWriter, r *http.Request) (store.Session, bool, error) {
	c, err := r.Cookie(m.CookieName())
	if err != nil || c.Value == "" {
		return store.Session{}, false, nil
	}
	id := ID(c.Value)
	s, err := m.store.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		m.Clear(w)
		return store.Session{}, false, nil
	}
	if err != nil {
		return store.Session{}, false, err
	}
	now := m.cfg.Now()
	if !now.Before(s.ExpiresAt) || !now.Before(s.AbsoluteEnd) {
		_ = m.store.DeleteSession(ctx, id)
		m.Clear(w)
		return store.Session{}, false, nil
	}
	if now.Sub(s.LastSeen) >= m.cfg.TouchInterval {
		s, err = m.store.TouchSession(ctx, s, now, m.idleEnd(s, now))
		if errors.Is(err, store.ErrNotFound) {
			m.Clear(w)
			return store.Session{}, false, nil
		}
		if err != nil {
			return store.Session{}, false, err
		}
		if s.Remember {
			m.setCookie(w, c.Value, s, now)
		}
	}
	return s, true, nil
}

// SignedInto records that session s signed into clientID and, when orgID
// is set, that orgID is the organization chosen for it: the next sign-in
// to that client in this browser session selects it without asking (until
// prompt=select_account). One write at most: nothing is written when s
// holds both already (every single sign-on after the first).
func (m *Manager) SignedInto(ctx context.Context, s store.Session, clientID, orgID string) (store.Session, error) {
	if slices.Contains(s.Clients, clientID) && (orgID == "" || s.OrgChoices[clientID] == orgID) {
		return s, nil
	}
	return m.store.UpdateSession(ctx, s.ID, func(s *store.Session) error {
		if !slices.Contains(s.Clients, clientID) {
			s.Clients = append(s.Clients, clientID)
		}
		if orgID != "" {
			if s.OrgChoices == nil {
				s.OrgChoices = map[string]string{}
			}
			s.OrgChoices[clientID] = orgID
		}
		return nil
	})
}

// Reauthenticated records that the person proved their password again in
// session id at `at` (e.g. to change it): the session's auth_time moves,
// so it outlives the password change that follows.
func (m *Manager) Reauthenticated(ctx context.Context, id string, at time.Time) error {
	_, err := m.store.UpdateSession(ctx, id, func(s *store.Session) error {
		s.AuthTime = at
		return nil
	})
	return err
}

// Stale reports whether a session began before the person's password last
// changed: such a session no longer signs anyone in.
func Stale(s store.Session, u store.User) bool {
	return s.AuthTime.Before(u.PasswordChangedAt)
}

// Get returns a session by its stored ID.
func (m *Manager) Get(ctx context.Context, id string) (store.Session, error) {
	return m.store.GetSession(ctx, id)
}

// End deletes a session by its stored ID.
func (m *Manager) End(ctx context.Context, id string) error {
	err := m.store.DeleteSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// List returns a user's live sessions.
func (m *Manager) List(ctx context.Context, userID string) ([]store.Session, error) {
	return m.store.ListUserSessions(ctx, userID)
}

// EndAllExcept ends every session of a user but keep ("" = all) and
// returns the ended sessions.
func (m *Manager) EndAllExcept(ctx context.Context, userID, keep string) ([]store.Session, error) {
	all, err := m.store.ListUserSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	var ended []store.Session
	for _, s := range all {
		if s.ID == keep {
			continue
		}
		if err := m.End(ctx, s.ID); err != nil {
			return ended, err
		}
		ended = append(ended, s)
	}
	return ended, nil
}

// AddMethods records that the person of session id (which must be
// userID's) passed further authentication methods (RFC 8176 values, e.g.
// the second step's "otp"): the session carries them for the rest of its
// life, "automatically sign in" included.
func (m *Manager) AddMethods(ctx context.Context, id, userID string, methods []string) (store.Session, error) {
	return m.store.UpdateSession(ctx, id, func(s *store.Session) error {
		if s.UserID != userID {
			return fmt.Errorf("session: step-up of another person's session: %w", store.ErrNotFound)
		}
		for _, x := range methods {
			if !slices.Contains(s.AMR, x) {
				s.AMR = append(s.AMR, x)
			}
		}
		return nil
	})
}

// SetPendingTOTP keeps (p != nil) or drops (nil) a two-step setup in
// progress on session id.
func (m *Manager) SetPendingTOTP(ctx context.Context, id string, p *store.PendingTOTP) (store.Session, error) {
	return m.store.UpdateSession(ctx, id, func(s *store.Session) error {
		s.PendingTOTP = p
		return nil
	})
}
