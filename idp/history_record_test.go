package idp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// eventCounts counts the person's audit events by kind and client.
func eventCounts(t *testing.T, env *hubtest.Env, userID string) map[string]int {
	t.Helper()
	evs, err := env.Durable.ListAudit(context.Background(), store.AuditFilter{UserID: userID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range evs {
		n[e.Kind+" "+e.ClientID]++
	}
	return n
}

// expectEvents checks that since before exactly the wanted events ("kind
// client") were added.
func expectEvents(t *testing.T, step string, before, after map[string]int, want ...string) {
	t.Helper()
	w := map[string]int{}
	for _, k := range want {
		w[strings.TrimSpace(k)+" "]++
	}
	got := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			got[strings.TrimSpace(k)+" "] = d
		}
	}
	for k, v := range w {
		if got[k] != v {
			t.Errorf("%s: %q recorded %d times, want %d", step, strings.TrimSpace(k), got[k], v)
		}
	}
	for k, v := range got {
		if w[k] == 0 {
			t.Errorf("%s: unexpected %q ×%d", step, strings.TrimSpace(k), v)
		}
	}
}

// TestHistoryRecordsEverySignInAndSignOutOnce follows a person through
// sign-in, single sign-on to a second service, refresh tokens, and a
// sign-out from every place: each is recorded exactly once, naming the
// service.
func TestHistoryRecordsEverySignInAndSignOutOnce(t *testing.T) {
	env, ships, _, u := setup(t, "embedded")
	pass := newRP(t, env, "dock", "dock-secret-0123456789-0123456789-abcd", "nk-ships")
	for _, r := range []*rp{ships, pass} {
		r.oauth.Scopes = append(r.oauth.Scopes, "offline_access")
	}
	for _, id := range []string{"ships", "dock"} {
		if _, err := env.Durable.UpdateClient(context.Background(), id, func(c *store.Client) error {
			c.BackchannelLogoutURI = "https://" + id + ".example/bcl"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() map[string]int { return eventCounts(t, env, u.ID) }

	before := count()
	b, f, code := signedIn(t, env, ships)
	shipsTok, _, _ := ships.exchange(t, f, code)
	expectEvents(t, "sign-in to ships", before, count(), "signin.success ships", "token.refresh.started ships")

	before = count()
	f2 := b.authorize(pass)
	passTok, _, _ := pass.exchange(t, f2, f2.code(t))
	expectEvents(t, "single sign-on to dock", before, count(), "signin.sso dock", "token.refresh.started dock")

	before = count()
	revoke(t, ships, shipsTok.RefreshToken) // adminapi_test.go
	revoke(t, ships, shipsTok.RefreshToken)
	expectEvents(t, "ships revokes its refresh token twice", before, count(), "token.refresh.revoked ships")
	if st, _, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {shipsTok.RefreshToken}}); st != http.StatusBadRequest {
		t.Fatalf("a revoked refresh token still refreshes: %d", st)
	}

	before = count()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {passTok.RefreshToken}}
	if st, out, _ := pass.tokenRequest(t, form); st != http.StatusOK {
		t.Fatalf("refresh: %d %v", st, out)
	}
	for range 2 { // the rotated token, used again: the family ends once
		if st, _, _ := pass.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {passTok.RefreshToken}}); st != http.StatusBadRequest {
			t.Fatalf("reuse: %d", st)
		}
	}
	expectEvents(t, "dock reuses a rotated refresh token", before, count(), "token.refresh.revoked dock")

	// RP-initiated logout with an id_token_hint, twice.
	before = count()
	q := url.Values{"id_token_hint": {shipsTok.Extra("id_token").(string)}, "post_logout_redirect_uri": {"https://ships.example/"}}
	b.get(env.URL + "/end_session?" + q.Encode()).Body.Close()
	b.get(env.URL + "/end_session?" + q.Encode()).Body.Close()
	expectEvents(t, "sign-out through ships", before, count(), "signout.service ships",
		"signout.backchannel ships", "signout.backchannel dock")

	// RP-initiated logout without a hint: confirmed on hubid's page.
	b, f, code = signedIn(t, env, ships)
	ships.exchange(t, f, code)
	before = count()
	resp := b.get(env.URL + "/end_session?" + url.Values{"post_logout_redirect_uri": {"https://ships.example/"}, "client_id": {"ships"}}.Encode())
	resp.Body.Close()
	if resp.Request.URL.Path != "/logout" {
		t.Fatalf("end_session without a hint ended at %s", resp.Request.URL)
	}
	b.post(env.URL+"/logout", url.Values{"post_logout_redirect_uri": {"https://ships.example/"}}).Body.Close()
	b.post(env.URL+"/logout", url.Values{"post_logout_redirect_uri": {"https://ships.example/"}}).Body.Close()
	expectEvents(t, "confirmed sign-out through ships", before, count(), "signout.service ships", "signout.backchannel ships")

	// The hub: sign in there, sign out from its menu, twice.
	before = count()
	hb := hubSignedIn(t, env, "aiko@example.com")
	hb.post(env.URL+"/logout", url.Values{}).Body.Close()
	hb.post(env.URL+"/logout", url.Values{}).Body.Close()
	expectEvents(t, "hub sign-in and sign-out", before, count(), "signin.success", "signout.hub")

	// Usage history shows every one of them as a sentence.
	hb = hubSignedIn(t, env, "aiko@example.com")
	for _, lang := range []string{"en", "ja"} {
		pg := hb.open("GET", "/account/history", lang)
		for _, bad := range []string{"Other event", "その他（", "signout.", "token.refresh", "signin.sso"} {
			if strings.Contains(pg.body, bad) {
				t.Errorf("%s history shows %q", lang, bad)
			}
		}
		want := map[string][]string{"en": {"single sign-on", "Signed out through a service", "told that you signed out", "continuing access",
			`data-label="Service">Customer Hub</td>`, `data-label="Service">DOCK</td>`},
			"ja": {"シングルサインオン", "サービスからサインアウト", "サインアウトを通知", "継続的なアクセス", `data-label="サービス">カスタマーハブ</td>`}}[lang]
		for _, w := range want {
			if !strings.Contains(pg.body, w) {
				t.Errorf("%s history lacks %q", lang, w)
			}
		}
	}
}
