package demo

import (
	"crypto/rand"
	"encoding/json"
	"sync"
	"time"
)

// session is the demo's own sign-in state for one browser.
type session struct {
	Subject   string
	SID       string // the IdP session (ID token `sid`), for back-channel logout
	Name      string
	Email     string
	IDToken   string // raw, for id_token_hint at logout
	Claims    map[string]json.RawMessage
	ExpiresAt time.Time
}

// sessionStore holds sessions in memory, keyed by a random cookie value.
type sessionStore struct {
	now func() time.Time
	ttl time.Duration

	mu sync.Mutex
	m  map[string]*session
}

func newSessionStore(now func() time.Time, ttl time.Duration) *sessionStore {
	return &sessionStore{now: now, ttl: ttl, m: make(map[string]*session)}
}

// create stores s and returns its new ID; expired sessions are dropped.
func (st *sessionStore) create(s *session) string {
	id := rand.Text()
	now := st.now()
	s.ExpiresAt = now.Add(st.ttl)
	st.mu.Lock()
	defer st.mu.Unlock()
	for k, v := range st.m {
		if !now.Before(v.ExpiresAt) {
			delete(st.m, k)
		}
	}
	st.m[id] = s
	return id
}

// get returns the live session with this ID, or nil.
func (st *sessionStore) get(id string) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[id]
	if s == nil || !st.now().Before(s.ExpiresAt) {
		return nil
	}
	return s
}

// remove deletes the session and returns it (nil if there was none).
func (st *sessionStore) remove(id string) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[id]
	delete(st.m, id)
	return s
}

// endMatching deletes the sessions a back-channel logout token names: those
// with its sid (and its sub, when both are given), or every session of its
// sub when it carries no sid. It returns how many were deleted.
func (st *sessionStore) endMatching(sid, sub string) int {
	if sid == "" && sub == "" {
		return 0
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for k, s := range st.m {
		if sid != "" && s.SID != sid {
			continue
		}
		if sub != "" && s.Subject != sub {
			continue
		}
		delete(st.m, k)
		n++
	}
	return n
}

// jtiStore remembers the IDs of logout tokens already accepted until they
// expire, so that a replayed token is refused (back-channel logout §2.6).
type jtiStore struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]time.Time
}

func newJTIStore(now func() time.Time) *jtiStore {
	return &jtiStore{now: now, m: make(map[string]time.Time)}
}

// firstUse records jti until exp and reports whether it was new.
func (j *jtiStore) firstUse(jti string, exp time.Time) bool {
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	for k, e := range j.m {
		if now.After(e) {
			delete(j.m, k)
		}
	}
	if _, seen := j.m[jti]; seen {
		return false
	}
	j.m[jti] = exp
	return true
}
