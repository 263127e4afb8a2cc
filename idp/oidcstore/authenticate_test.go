package oidcstore

import (
	"context"
	"testing"

	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/store"
)

type clientDurable struct {
	Durable
	c store.Client
}

func (d clientDurable) GetClient(_ context.Context, id string) (store.Client, error) {
	if id != d.c.ID {
		return store.Client{}, store.ErrNotFound
	}
	return d.c, nil
}

// TestClientAuthenticatedOncePerRequest: the strict layer authenticates
// the client first; op's own check of the same credentials in the same
// request (its memo) hashes nothing again, and other credentials are
// still checked.
func TestClientAuthenticatedOncePerRequest(t *testing.T) {
	hashes := 0
	verify := clients.Verifier(nil)
	s := New(Config{VerifySecret: func(secret, hash string) bool { hashes++; return verify(secret, hash) }},
		clientDurable{c: store.Client{ID: "ships", SecretHash: clients.HashSecret("right")}}, nil, nil)
	ctx := WithMemo(context.Background())
	if public, err := s.AuthenticateClient(ctx, "ships", "right"); err != nil || public {
		t.Fatalf("AuthenticateClient: public %v, %v", public, err)
	}
	if err := s.AuthorizeClientIDSecret(ctx, "ships", "right"); err != nil {
		t.Fatal(err)
	}
	if hashes != 1 {
		t.Fatalf("%d secret verifications in one request, want 1", hashes)
	}
	if err := s.AuthorizeClientIDSecret(ctx, "ships", "wrong"); err == nil {
		t.Fatal("a different secret in the same request was accepted")
	}
	if err := s.AuthorizeClientIDSecret(context.Background(), "ships", "right"); err != nil || hashes != 3 {
		t.Fatalf("another request: %v after %d verifications, want a fresh one", err, hashes)
	}
	if _, err := s.AuthenticateClient(ctx, "nobody", ""); err == nil {
		t.Fatal("unknown client authenticated")
	}
}

func TestPublicClientAuthenticatesWithoutSecret(t *testing.T) {
	s := New(Config{VerifySecret: clients.Verifier(nil)}, clientDurable{c: store.Client{ID: "pass", Public: true}}, nil, nil)
	ctx := WithMemo(context.Background())
	if public, err := s.AuthenticateClient(ctx, "pass", ""); err != nil || !public {
		t.Fatalf("public client without secret: public %v, %v", public, err)
	}
	if _, err := s.AuthenticateClient(ctx, "pass", "a-secret"); err == nil {
		t.Fatal("a public client sending a secret was accepted")
	}
}
