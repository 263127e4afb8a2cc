package oidcstore

import (
	"context"
	"net/http"
	"sync"

	"github.com/customerhub/hubid/store"
)

// memo remembers the clients and users one HTTP request has loaded: op
// asks for the same client two or three times per token request (client
// authentication, then the client itself) and a refresh loads the user
// for validation and again for the ID token. It lives only as long as the
// request, so nothing is ever stale across requests.
type memo struct {
	mu      sync.Mutex
	clients map[string]store.Client
	users   map[string]store.User
}

type memoKey struct{}

// Memoize is an HTTP middleware (an op interceptor) that gives each
// request its own memo.
func Memoize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := &memo{clients: map[string]store.Client{}, users: map[string]store.User{}}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), memoKey{}, m)))
	})
}

func memoOf(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

// client loads a client once per request.
func (s *Storage) client(ctx context.Context, id string) (store.Client, error) {
	m := memoOf(ctx)
	if m != nil {
		m.mu.Lock()
		c, ok := m.clients[id]
		m.mu.Unlock()
		if ok {
			return c, nil
		}
	}
	c, err := s.db.GetClient(ctx, id)
	if err == nil && m != nil {
		m.mu.Lock()
		m.clients[id] = c
		m.mu.Unlock()
	}
	return c, err
}

// user loads a user once per request.
func (s *Storage) user(ctx context.Context, id string) (store.User, error) {
	m := memoOf(ctx)
	if m != nil {
		m.mu.Lock()
		u, ok := m.users[id]
		m.mu.Unlock()
		if ok {
			return u, nil
		}
	}
	u, err := s.db.GetUser(ctx, id)
	if err == nil && m != nil {
		m.mu.Lock()
		m.users[id] = u
		m.mu.Unlock()
	}
	return u, err
}
