package idp_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

// TestTwoStepPolicyNoTokenWithoutIt: once an organization requires
// two-step verification, no token for a service it is entitled to is
// issued to a member without the second step, by any path: the refresh
// token of an earlier sign-in gets invalid_grant, an SSO session made
// before the policy is taken through setup before the code is issued, and
// (docs/decisions.md) a sign-in to a service of another organization of
// the member's is taken through it too, since its session would reach
// the first organization's services without a password.
func TestTwoStepPolicyNoTokenWithoutIt(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	ctx := context.Background()
	ships := newRP(t, env, "ships", "ships-secret", "SHIPS")
	pass := newRP(t, env, "pass", "pass-secret", "PASS")
	carol := env.AddUser(t, hubtest.User{Email: "carol@example.com", Password: testPassword, Org: "NK0002", Service: "SHIPS"})
	other := env.AddUser(t, hubtest.User{Email: "other@example.com", Password: testPassword, Org: "NK0003", Service: "PASS"})
	nk3, _ := env.Durable.GetOrganizationByCode(ctx, "NK0003")
	if err := env.Durable.PutMembership(ctx, store.Membership{UserID: carol.ID, OrgID: nk3.ID, Role: store.RoleNormal, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// Before the policy: password only, with a refresh token.
	b := newBrowser(t, env)
	f := b.authorize(ships, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	b.signIn(f, carol.Email, testPassword, false)
	tok, _, claims := ships.exchange(t, f, f.code(t))
	if amrOf(claims) != "pwd" || tok.RefreshToken == "" {
		t.Fatalf("before the policy: amr %v, refresh token %q", claims["amr"], tok.RefreshToken)
	}
	st, out, _ := ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	rt, _ := out["refresh_token"].(string)
	if st != 200 || rt == "" {
		t.Fatalf("refresh before the policy: %d %v", st, out)
	}

	nk2, _ := env.Durable.GetOrganizationByCode(ctx, "NK0002")
	if err := env.Server.TwoStep().SetOrgRequired(ctx, nk2.ID, true, mfa.Meta{Operator: true}); err != nil {
		t.Fatal(err)
	}
	// The refresh token's sign-in lacked the second step.
	st, out, _ = ships.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if st != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("refresh after the policy: %d %v", st, out)
	}
	// The SSO session made before the policy: setup before any code.
	f = b.authorize(ships)
	if path(f.resp) != "/login/mfa" {
		t.Fatalf("SSO after the policy: %s, want the second step (setup)", f.resp.Request.URL)
	}
	if _, err := f.resp.Location(); err == nil {
		t.Fatal("a code was issued")
	}
	drain(f.resp)
	// A fresh sign-in to the other organization's service: setup too.
	b2 := newBrowser(t, env)
	f = b2.authorize(pass)
	b2.signIn(f, carol.Email, testPassword, false)
	if path(f.resp) != "/login/mfa" {
		t.Fatalf("sign-in to NK0003's service: %s, want the second step (setup)", f.resp.Request.URL)
	}
	drain(f.resp)
	// Someone of NK0003 alone is not concerned.
	b3 := newBrowser(t, env)
	f = b3.authorize(pass)
	b3.signIn(f, other.Email, testPassword, false)
	if _, _, claims := pass.exchange(t, f, f.code(t)); amrOf(claims) != "pwd" {
		t.Fatalf("member of NK0003 only: amr %v", claims["amr"])
	}
}
