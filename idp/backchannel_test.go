package idp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

func TestBackChannelLogoutReachesEveryClientOfTheSession(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	var mu sync.Mutex
	received := map[string]string{} // client -> logout_token
	rpServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		received[r.URL.Path[1:]] = r.PostForm.Get("logout_token")
		mu.Unlock()
	}))
	t.Cleanup(rpServer.Close)
	mk := func(id string) *rp {
		r := newRP(t, env, id, id+"-secret-0123456789-0123456789-abcdef", "svc")
		if _, err := env.Durable.UpdateClient(context.Background(), id, func(c *store.Client) error {
			c.BackchannelLogoutURI = rpServer.URL + "/" + id
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b2 := mk("alpha"), mk("beta")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O1", Service: "svc"})
	br, f, code := signedIn(t, env, a)
	tok, _, claims := a.exchange(t, f, code)
	f2 := br.authorize(b2)
	b2.exchange(t, f2, f2.code(t))

	q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {"https://alpha.example/"}}
	br.get(env.URL + "/end_session?" + q.Encode()).Body.Close()
	sent, failed, err := env.Server.Logouts().RunOnce(context.Background())
	if err != nil || sent != 2 || failed != 0 {
		t.Fatalf("RunOnce: sent %d failed %d err %v", sent, failed, err)
	}
	for _, id := range []string{"alpha", "beta"} {
		raw := received[id]
		v := oidc.NewVerifier(env.URL, oidc.NewRemoteKeySet(context.Background(), env.URL+"/keys"), &oidc.Config{ClientID: id})
		lt, err := v.Verify(context.Background(), raw)
		if err != nil {
			t.Fatalf("%s: logout token does not verify: %v", id, err)
		}
		var c map[string]any
		_ = lt.Claims(&c)
		events, _ := c["events"].(map[string]any)
		if _, ok := events["http://schemas.openid.net/event/backchannel-logout"]; !ok || c["sid"] != claims["sid"] || c["nonce"] != nil {
			t.Fatalf("%s: logout token claims %v", id, c)
		}
	}
	// Nothing is sent twice.
	if sent, _, _ := env.Server.Logouts().RunOnce(context.Background()); sent != 0 {
		t.Fatalf("sent %d more", sent)
	}
}
