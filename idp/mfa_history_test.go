package idp_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// TestTwoStepHistory: setup, activation, a failed code, a recovery code,
// turning off, a reset by an administrator (named) and the removal by a
// password reset are each in the person's usage history and in their
// organization's.
func TestTwoStepHistory(t *testing.T) {
	env := hubtest.New(t, hubtest.Options{})
	ctx := context.Background()
	r := newRP(t, env, "ships", "ships-secret", "SHIPS")
	dave := env.AddUser(t, hubtest.User{Email: "dave@example.com", Password: testPassword, Org: "NK0001", Service: "SHIPS"})
	admin := env.AddUser(t, hubtest.User{Email: "boss@example.com", Password: testPassword, Org: "NK0001", Role: store.RoleAdministrator})
	org, _ := env.Durable.GetOrganizationByCode(ctx, "NK0001")

	b := newBrowser(t, env)
	f := b.authorize(r)
	b.signIn(f, dave.Email, testPassword, false)
	drain(f.resp)
	key, codes := enrollOnAccountPage(t, b) // a wrong code, then the right one
	b2 := newBrowser(t, env)
	_, id := toSecondStep(t, b2, r, dave.Email)
	drain(b2.post(b2.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {wrongCode(t, key)}}))
	resp := b2.post(b2.url("/login/mfa"), url.Values{"authRequestID": {id}, "code": {codes[0]}})
	if path(resp) == "/login/mfa" {
		t.Fatalf("recovery code refused: %s", resp.Request.URL)
	}
	drain(resp)
	two := env.Server.TwoStep()
	if err := two.Disable(ctx, dave, totpAt(t, key, 1), mfa.Meta{ActorID: dave.ID}); err != nil {
		t.Fatal(err)
	}
	enrollDirect(t, env, dave)
	if err := two.Reset(ctx, dave.ID, mfa.Meta{ActorID: admin.ID, OrgID: org.ID}); err != nil {
		t.Fatal(err)
	}
	enrollDirect(t, env, dave)
	resetPassword(t, env, newBrowser(t, env), dave.Email, "a-brand-new-long-password")

	want := []string{mfa.KindSetupStarted, mfa.KindSetupVerified, mfa.KindActivated, mfa.KindCodeFailed,
		mfa.KindRecoveryUsed, mfa.KindDisabled, mfa.KindReset, mfa.KindCleared}
	own, err := env.Durable.ListAudit(ctx, store.AuditFilter{UserID: dave.ID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	page, err := env.Server.Orgs.History(ctx, orgs.Operator("op"), org.ID, orgs.HistoryQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for name, evs := range map[string][]store.AuditEvent{"person's": own, "organization's": page.Events} {
		got := map[string]int{}
		for _, e := range evs {
			got[e.Kind]++
			if e.Kind == mfa.KindReset && (e.ActorID != admin.ID || e.Detail["by"] != "administrator") {
				t.Errorf("%s history: reset without who did it: %+v", name, e)
			}
		}
		for _, k := range want {
			if got[k] == 0 {
				t.Errorf("%s history lacks %s: %v", name, k, got)
			}
		}
		if got[mfa.KindCodeFailed] < 2 {
			t.Errorf("%s history: %d failed codes, want the setup's and the sign-in's", name, got[mfa.KindCodeFailed])
		}
	}
}
