package oidcstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

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
