package clients

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func TestRegisterRotateDelete(t *testing.T) {
	st := storetest.OpenSQLite(t, nil)
	ctx := context.Background()
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	spec := store.Client{Name: "Ships", RedirectURIs: []string{"https://ships.example/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"}}
	c, secret, err := Register(ctx, st, spec, "operator:cli", now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	verify := Verifier(func(string, string) bool { return false })
	stored, err := st.GetClient(ctx, c.ID)
	if err != nil || len(secret) < MinSecretLength || !verify(secret, stored.SecretHash) || stored.AccessTokenType != store.AccessTokenJWT {
		t.Fatalf("registered %+v, secret %q: %v", stored, secret, err)
	}
	bad := spec
	bad.RedirectURIs = []string{"http://ships.example/cb", "https://x/*"}
	_, _, err = Register(ctx, st, bad, "operator:cli", now, rand.Reader)
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("bad redirect URIs: %v", err)
	}
	dup := spec
	dup.ID = c.ID
	if _, _, err = Register(ctx, st, dup, "operator:cli", now, rand.Reader); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("taken ID: %v", err)
	}
	pub := spec
	pub.Public = true
	p, psecret, err := Register(ctx, st, pub, "operator:cli", now, rand.Reader)
	if err != nil || psecret != "" || p.SecretHash != "" {
		t.Fatalf("public client: %+v %q %v", p, psecret, err)
	}
	if _, err := RotateSecret(ctx, st, p.ID, "operator:cli", now, rand.Reader); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("rotate a public client's secret: %v", err)
	}
	s2, err := RotateSecret(ctx, st, c.ID, "operator:cli", now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ = st.GetClient(ctx, c.ID)
	if verify(secret, stored.SecretHash) || !verify(s2, stored.SecretHash) {
		t.Fatal("the old secret still works, or the new one does not")
	}
	_, err = Update(ctx, st, c.ID, func(c *store.Client) error { c.RedirectURIs = nil; return nil }, "operator:cli", now)
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("update without redirect URIs: %v", err)
	}
	if err := Delete(ctx, st, c.ID, "operator:cli", now); err != nil {
		t.Fatal(err)
	}
	evs, _ := st.ListAudit(ctx, store.AuditFilter{Involving: "operator:cli"})
	if len(evs) != 4 { // created twice, rotated, deleted
		t.Fatalf("audit: %+v", evs)
	}
}
