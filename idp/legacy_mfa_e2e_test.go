package idp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

// enrollDirect gives u an active authenticator through the two-step
// service (no code used up) and returns its key.
func enrollDirect(t *testing.T, env *hubtest.Env, u store.User) string {
	t.Helper()
	ctx := context.Background()
	e, err := env.Server.TwoStep().BeginSetup(ctx, u, mfa.Meta{ActorID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Server.TwoStep().Activate(ctx, u, e.Sealed, true, mfa.Meta{ActorID: u.ID}); err != nil {
		t.Fatal(err)
	}
	return e.Secret
}

// wrongCode is a six-digit code that no step near now accepts for key.
func wrongCode(t *testing.T, key string) string {
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if c != totpAt(t, key, -1) && c != totpAt(t, key, 0) && c != totpAt(t, key, 1) {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

// An existing account with two-step verification confirms a link with
// its password and a code computed as the phone does; a missing or wrong
// code is refused and spends the account's sign-in budget (the same
// counter as wrong passwords); the code works once: the next link needs
// a code of a later step.
func TestPreregistrationExistingAccountWithTwoStep(t *testing.T) {
	env := legacyEnv(t, -time.Hour, 24*time.Hour, 48*time.Hour)
	ctx := context.Background()
	tomo := env.AddUser(t, hubtest.User{Email: "tomo@example.com", Password: testPassword})
	key := enrollDirect(t, env, tomo)
	budget := func() int64 {
		n, _, err := env.Ephemeral.GetCounter(ctx, "throttle:acct:"+store.FoldEmail(tomo.Email))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	if p := preregister(t, env, "nk-ships", "NKS-0002", tomo.Email); p.status != 303 {
		t.Fatalf("register: %+v", p)
	}
	tok := mailedLink(t, env, tomo.Email)
	if p := complete(t, env, tok, url.Values{"password": {testPassword}}); p.status != 401 || !strings.Contains(p.body, "current code of your authenticator app") {
		t.Fatalf("no code: %d\n%s", p.status, p.body)
	}
	if p := complete(t, env, tok, url.Values{"password": {testPassword}, "code": {wrongCode(t, key)}}); p.status != 401 {
		t.Fatalf("wrong code: %d", p.status)
	}
	if n := budget(); n != 2 {
		t.Fatalf("sign-in budget spent by two refused codes: %d, want 2", n)
	}
	failed, err := env.Durable.ListAudit(ctx, store.AuditFilter{UserID: tomo.ID, Kinds: []string{mfa.KindCodeFailed}})
	if err != nil || len(failed) != 1 {
		t.Fatalf("failed codes in the person's history: %d %v", len(failed), err)
	}
	if links, _ := env.Durable.ListLegacyLinksByUser(ctx, tomo.ID); len(links) != 0 {
		t.Fatalf("linked without the second factor: %+v", links)
	}
	code := totpAt(t, key, 0)
	if p := complete(t, env, tok, url.Values{"password": {testPassword}, "code": {code[:3] + " " + code[3:]}}); p.status != 200 || !strings.Contains(p.body, "Registration complete") {
		t.Fatalf("right code: %d\n%s", p.status, p.body)
	}
	if n := budget(); n != 0 {
		t.Fatalf("budget after success: %d", n)
	}
	if links, _ := env.Durable.ListLegacyLinksByUser(ctx, tomo.ID); len(links) != 1 || links[0].LoginID != "NKS-0002" {
		t.Fatalf("links: %+v", links)
	}

	// A second link (another service): the used code is refused, a code
	// of the next step works.
	if p := preregister(t, env, "nk-pass", "NKP-0001", tomo.Email); p.status != 303 {
		t.Fatalf("register: %+v", p)
	}
	tok = mailedLink(t, env, tomo.Email)
	if p := complete(t, env, tok, url.Values{"password": {testPassword}, "code": {code}}); p.status != 401 {
		t.Fatalf("replayed code: %d", p.status)
	}
	if p := complete(t, env, tok, url.Values{"password": {testPassword}, "code": {totpAt(t, key, 1)}}); p.status != 200 {
		t.Fatalf("next code: %d\n%s", p.status, p.body)
	}
}

// An existing account with two-step verification but without its phone
// confirms a link with its password and a recovery code, typed into the
// field beside the TOTP code: the login ID is linked, the code is spent
// (the person's history says so, with the codes left), and the same code
// cannot confirm another link while an unused one can.
func TestPreregistrationExistingAccountRecoveryCode(t *testing.T) {
	env := legacyEnv(t, -time.Hour, 24*time.Hour, 48*time.Hour)
	ctx := context.Background()
	aiko := env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword})
	e, err := env.Server.TwoStep().BeginSetup(ctx, aiko, mfa.Meta{ActorID: aiko.ID})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := env.Server.TwoStep().Activate(ctx, aiko, e.Sealed, true, mfa.Meta{ActorID: aiko.ID})
	if err != nil || len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("activate: %d codes, %v", len(codes), err)
	}

	if p := preregister(t, env, "nk-ships", "NKS-0002", aiko.Email); p.status != 303 {
		t.Fatalf("register: %+v", p)
	}
	tok := mailedLink(t, env, aiko.Email)
	c := &http.Client{}
	if p := get(t, c, env.URL+"/preregister/confirm?token="+tok); !strings.Contains(p.body, `name="recovery_code"`) || !strings.Contains(p.body, "Or a recovery code") {
		t.Fatalf("no recovery code field on the confirm page:\n%s", p.body)
	}
	if p := complete(t, env, tok, url.Values{"password": {testPassword}, "recovery_code": {"aaaa-bbbb-cccc"}}); p.status != 401 {
		t.Fatalf("unknown recovery code: %d", p.status)
	}
	if links, _ := env.Durable.ListLegacyLinksByUser(ctx, aiko.ID); len(links) != 0 {
		t.Fatalf("linked with an unknown recovery code: %+v", links)
	}
	if p := complete(t, env, tok, url.Values{"password": {testPassword}, "code": {""}, "recovery_code": {" " + strings.ToUpper(codes[0]) + " "}}); p.status != 200 || !strings.Contains(p.body, "Registration complete") {
		t.Fatalf("recovery code: %d\n%s", p.status, p.body)
	}
	if links, _ := env.Durable.ListLegacyLinksByUser(ctx, aiko.ID); len(links) != 1 || links[0].LoginID != "NKS-0002" {
		t.Fatalf("links: %+v", links)
	}
	used, err := env.Durable.ListAudit(ctx, store.AuditFilter{UserID: aiko.ID, Kinds: []string{mfa.KindRecoveryUsed}})
	if err != nil || len(used) != 1 || used[0].Detail["left"] != "9" {
		t.Fatalf("recovery code use in the history: %+v %v", used, err)
	}
	if st, _ := env.Server.TwoStep().Status(ctx, aiko.ID); st.CodesLeft != mfa.RecoveryCodeCount-1 {
		t.Fatalf("codes left: %d", st.CodesLeft)
	}

	// The spent code does not confirm a second link; another one does.
	if p := preregister(t, env, "nk-pass", "NKP-0001", aiko.Email); p.status != 303 {
		t.Fatalf("register: %+v", p)
	}
	tok = mailedLink(t, env, aiko.Email)
	if p := complete(t, env, tok, url.Values{"password": {testPassword}, "recovery_code": {codes[0]}}); p.status != 401 {
		t.Fatalf("spent recovery code: %d", p.status)
	}
	if p := complete(t, env, tok, url.Values{"password": {testPassword}, "recovery_code": {codes[1]}}); p.status != 200 {
		t.Fatalf("second recovery code: %d\n%s", p.status, p.body)
	}
	if links, _ := env.Durable.ListLegacyLinksByUser(ctx, aiko.ID); len(links) != 2 {
		t.Fatalf("links: %+v", links)
	}
}
