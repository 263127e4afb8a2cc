package oidcstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

type countingDurable struct {
	Durable
	clients, users int
}

func (c *countingDurable) GetClient(_ context.Context, id string) (store.Client, error) {
	c.clients++
	return store.Client{ID: id}, nil
}

func (c *countingDurable) GetUser(_ context.Context, id string) (store.User, error) {
	c.users++
	return store.User{ID: id}, nil
}

func TestMemoLoadsOncePerRequestOnly(t *testing.T) {
	db := &countingDurable{}
	s := New(Config{}, db, nil, nil)
	h := Memoize(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			if _, err := s.client(r.Context(), "c1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.user(r.Context(), "u1"); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = s.user(r.Context(), "u2")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/oauth/token", nil))
	if db.clients != 1 || db.users != 2 {
		t.Fatalf("one request: %d client and %d user loads, want 1 and 2", db.clients, db.users)
	}
	// A second request loads afresh: nothing is cached across requests.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/oauth/token", nil))
	if db.clients != 2 || db.users != 4 {
		t.Fatalf("two requests: %d client and %d user loads, want 2 and 4", db.clients, db.users)
	}
	// Without the middleware every call goes to the store.
	s.client(context.Background(), "c1")
	s.client(context.Background(), "c1")
	if db.clients != 4 {
		t.Fatalf("without a memo: %d client loads, want 4", db.clients)
	}
}

type missingFirst struct {
	countingDurable
	exists bool
}

func (m *missingFirst) GetClient(ctx context.Context, id string) (store.Client, error) {
	m.clients++
	if !m.exists {
		return store.Client{}, store.ErrNotFound
	}
	return store.Client{ID: id}, nil
}

func TestClientCacheExpiresAndNeverCachesMisses(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := &missingFirst{}
	s := New(Config{ClientCacheTTL: 5 * time.Second, Now: func() time.Time { return now }}, db, nil, nil)
	ctx := context.Background()
	if _, err := s.client(ctx, "c1"); err == nil {
		t.Fatal("missing client found")
	}
	db.exists = true // registered a moment later: works at once
	if _, err := s.client(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	s.client(ctx, "c1")
	if db.clients != 2 {
		t.Fatalf("%d loads within the TTL, want 2 (the miss and the first hit)", db.clients)
	}
	now = now.Add(5 * time.Second)
	s.client(ctx, "c1")
	if db.clients != 3 {
		t.Fatalf("no reload after the TTL: %d loads", db.clients)
	}
}
