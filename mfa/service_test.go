package mfa_test

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/seal"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	redisstore "github.com/customerhub/hubid/store/redis"
	"github.com/customerhub/hubid/store/storetest"
)

type fixture struct {
	svc    *mfa.Service
	db     store.Durable
	clock  *storetest.Clock
	user   store.User
	mailed []string
}

func newFixture(t *testing.T, steps mfa.Steps, clock *storetest.Clock) *fixture {
	t.Helper()
	if clock == nil {
		clock = storetest.NewClock(time.Date(2031, 3, 4, 5, 6, 15, 0, time.UTC))
	}
	if steps == nil {
		mem := memory.New(memory.Options{Now: clock.Now})
		t.Cleanup(func() { _ = mem.Close() })
		steps = mem
	}
	kr, err := seal.NewKeyring(seal.NewKEK([32]byte{1, 2, 3}))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: storetest.OpenSQLite(t, clock.Now), clock: clock}
	f.user = store.User{ID: "u1", Email: "alice@example.com", CreatedAt: clock.Now()}
	ctx := context.Background()
	if err := f.db.CreateUser(ctx, f.user); err != nil {
		t.Fatal(err)
	}
	f.svc, err = mfa.NewService(mfa.Config{
		IssuerName: "Customer Hub", Store: f.db, Steps: steps, Sealer: kr, Now: clock.Now,
		Notify: func(_ context.Context, _ store.Durable, u store.User) error {
			f.mailed = append(f.mailed, u.Email)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enroll sets up TOTP for the fixture's user and returns the secret and
// the recovery codes.
func (f *fixture) enroll(t *testing.T) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e, err := f.svc.BeginSetup(ctx, f.user, mfa.Meta{ActorID: f.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Activate(ctx, f.user, e.Sealed, false, mfa.Meta{}); !errors.Is(err, mfa.ErrSetupExpired) {
		t.Fatalf("Activate before Verify: %v, want ErrSetupExpired", err)
	}
	if err := f.svc.VerifySetup(ctx, f.user, e.Sealed, "000000", mfa.Meta{}); !errors.Is(err, mfa.ErrWrongCode) && f.code(t, e.Secret) != "000000" {
		t.Fatalf("VerifySetup with a wrong code: %v", err)
	}
	if err := f.svc.VerifySetup(ctx, f.user, e.Sealed, f.code(t, e.Secret), mfa.Meta{}); err != nil {
		t.Fatalf("VerifySetup: %v", err)
	}
	codes, err := f.svc.Activate(ctx, f.user, e.Sealed, true, mfa.Meta{ActorID: f.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Second) // the setup code's step is used
	return e.Secret, codes
}

func TestSetupParameters(t *testing.T) {
	f := newFixture(t, nil, nil)
	e, err := f.svc.BeginSetup(context.Background(), f.user, mfa.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := otpKey(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	if k.label != "Customer Hub:alice@example.com" || k.issuer != "Customer Hub" || k.alg != "SHA1" ||
		k.digits != "6" || k.period != "30" || k.secretBytes != 20 || k.secret != e.Secret {
		t.Fatalf("enrollment %+v from %s", k, e.URL)
	}
	if strings.ReplaceAll(e.GroupedSecret(), " ", "") != e.Secret || e.GroupedSecret()[4] != ' ' {
		t.Fatalf("grouped secret %q", e.GroupedSecret())
	}
	if !e.Until.Equal(f.clock.Now().Add(15 * time.Minute)) {
		t.Fatalf("pending until %v", e.Until)
	}
	// The page can be shown again from the sealed secret alone.
	again, err := f.svc.Pending(f.user, e.Sealed)
	if err != nil || again.Secret != e.Secret || again.URL != e.URL {
		t.Fatalf("Pending = %s %s, %v; want the same secret and URL %s", again.Secret, again.URL, err, e.URL)
	}
	// Sealed for this user only.
	other := f.user
	other.ID = "u2"
	if _, err := f.svc.Pending(other, e.Sealed); err == nil {
		t.Fatal("another user's sealed secret opened")
	}
}

func TestSignInCodesOnceAndRecoveryCodes(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := context.Background()
	if _, err := f.svc.VerifySignIn(ctx, f.user.ID, "123456", mfa.Meta{}); !errors.Is(err, mfa.ErrNotEnrolled) {
		t.Fatalf("not enrolled: %v", err)
	}
	secret, codes := f.enroll(t)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	st, err := f.svc.Status(ctx, f.user.ID)
	if err != nil || !st.Enabled || st.CodesLeft != 10 || st.FewCodes() {
		t.Fatalf("status %+v, %v", st, err)
	}
	c := f.code(t, secret)
	amr, err := f.svc.VerifySignIn(ctx, f.user.ID, c[:3]+" "+c[3:], mfa.Meta{})
	if err != nil || strings.Join(amr, ",") != "otp" {
		t.Fatalf("TOTP sign-in: %v, %v", amr, err)
	}
	if _, err := f.svc.VerifySignIn(ctx, f.user.ID, c, mfa.Meta{}); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("replayed code: %v, want ErrWrongCode", err)
	}
	// A recovery code works once, in any typing.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	amr, err = f.svc.VerifySignIn(ctx, f.user.ID, typed, mfa.Meta{})
	if err != nil || strings.Join(amr, ",") != "otp,kba" {
		t.Fatalf("recovery code: %v, %v", amr, err)
	}
	if _, err := f.svc.VerifySignIn(ctx, f.user.ID, codes[3], mfa.Meta{}); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("recovery code twice: %v", err)
	}
	st, _ = f.svc.Status(ctx, f.user.ID)
	if st.CodesLeft != 9 {
		t.Fatalf("codes left %d, want 9", st.CodesLeft)
	}
	// Regenerating kills the old codes.
	fresh, err := f.svc.RegenerateCodes(ctx, f.user, mfa.Meta{})
	if err != nil || len(fresh) != 10 {
		t.Fatal(err)
	}
	if _, err := f.svc.VerifySignIn(ctx, f.user.ID, codes[4], mfa.Meta{}); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("old recovery code after regenerating: %v", err)
	}
	for _, rc := range fresh[:8] {
		if _, err := f.svc.VerifySignIn(ctx, f.user.ID, rc, mfa.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ = f.svc.Status(ctx, f.user.ID); st.CodesLeft != 2 || !st.FewCodes() {
		t.Fatalf("after 8 of 10: %+v, want 2 left and the warning", st)
	}
	kinds := auditKinds(t, f.db, f.user.ID)
	for _, k := range []string{mfa.KindSetupStarted, mfa.KindSetupVerified, mfa.KindActivated, mfa.KindCodeFailed, mfa.KindRecoveryUsed, mfa.KindCodesRegenerated} {
		if !kinds[k] {
			t.Errorf("no %s event in %v", k, kinds)
		}
	}
}

func TestOlderCodeRefusedAfterNewer(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := context.Background()
	secret, _ := f.enroll(t)
	older := f.code(t, secret)
	f.clock.Advance(30 * time.Second)
	if _, err := f.svc.VerifySignIn(ctx, f.user.ID, f.code(t, secret), mfa.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VerifySignIn(ctx, f.user.ID, older, mfa.Meta{}); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("the previous step's code after the current one: %v, want ErrWrongCode", err)
	}
}

func TestDisableAndReplace(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := context.Background()
	secret, _ := f.enroll(t)
	if err := f.svc.Disable(ctx, f.user, "000001", mfa.Meta{}); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("disable with a wrong code: %v", err)
	}
	// Setting up again replaces the secret.
	second, _ := f.enroll(t)
	if second == secret {
		t.Fatal("same secret twice")
	}
	if _, err := f.svc.VerifySignIn(ctx, f.user.ID, f.code(t, secret), mfa.Meta{}); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("replaced secret still works: %v", err)
	}
	if err := f.svc.Disable(ctx, f.user, f.code(t, second), mfa.Meta{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.svc.Status(ctx, f.user.ID); st.Enabled {
		t.Fatal("still enabled after Disable")
	}
	if !auditKinds(t, f.db, f.user.ID)[mfa.KindDisabled] {
		t.Fatal("no mfa.disabled event")
	}
}

func TestResetAndPolicy(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := context.Background()
	org := store.Organization{ID: "o1", Code: "NK0001", Name: "NK", CreatedAt: f.clock.Now()}
	admin := store.User{ID: "admin", Email: "admin@example.com", CreatedAt: f.clock.Now()}
	for _, err := range []error{f.db.CreateOrganization(ctx, org), f.db.CreateUser(ctx, admin),
		f.db.PutMembership(ctx, store.Membership{UserID: "admin", OrgID: "o1", Role: store.RoleAdministrator}),
		f.db.PutMembership(ctx, store.Membership{UserID: f.user.ID, OrgID: "o1", Role: store.RoleNormal})} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Policy: only an administrator of the organization, or an operator.
	if err := f.svc.SetOrgRequired(ctx, "o1", true, mfa.Meta{ActorID: f.user.ID}); !errors.Is(err, mfa.ErrNotAdministrator) {
		t.Fatalf("normal member sets the policy: %v", err)
	}
	if req, _ := f.svc.Required(ctx, f.user.ID); req {
		t.Fatal("required before the policy")
	}
	if err := f.svc.SetOrgRequired(ctx, "o1", true, mfa.Meta{ActorID: "admin"}); err != nil {
		t.Fatal(err)
	}
	if req, err := f.svc.Required(ctx, f.user.ID); err != nil || !req {
		t.Fatalf("Required = %v, %v", req, err)
	}
	ev, _ := f.db.ListAudit(ctx, store.AuditFilter{OrgID: "o1", Kinds: []string{mfa.KindOrgRequired}})
	if len(ev) != 1 || ev[0].ActorID != "admin" {
		t.Fatalf("policy audit %+v", ev)
	}

	f.enroll(t)
	if off, _ := f.svc.ShouldOffer(ctx, f.user.ID); off {
		t.Fatal("setup offered to an enrolled person")
	}
	if err := f.svc.Reset(ctx, f.user.ID, mfa.Meta{ActorID: f.user.ID, OrgID: "o1"}); !errors.Is(err, mfa.ErrNotAdministrator) {
		t.Fatalf("a member resets: %v", err)
	}
	// Who may not reset learns nothing of whether an account exists.
	if err := f.svc.Reset(ctx, "no-such-account", mfa.Meta{ActorID: f.user.ID, OrgID: "o1"}); !errors.Is(err, mfa.ErrNotAdministrator) {
		t.Fatalf("a member resets an unknown account: %v", err)
	}
	if err := f.svc.Reset(ctx, f.user.ID, mfa.Meta{ActorID: "admin", OrgID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.svc.Status(ctx, f.user.ID); st.Enabled {
		t.Fatal("enabled after reset")
	}
	if len(f.mailed) != 1 || f.mailed[0] != f.user.Email {
		t.Fatalf("mailed %v", f.mailed)
	}
	ev, _ = f.db.ListAudit(ctx, store.AuditFilter{UserID: f.user.ID, Kinds: []string{mfa.KindReset}})
	if len(ev) != 1 || ev[0].ActorID != "admin" || ev[0].Detail["by"] != "administrator" || ev[0].OrgID != "o1" {
		t.Fatalf("reset audit %+v", ev)
	}
	if off, _ := f.svc.ShouldOffer(ctx, f.user.ID); !off {
		t.Fatal("setup not offered after a reset")
	}
	if err := f.svc.SkipSetup(ctx, f.user.ID, mfa.Meta{}); err != nil {
		t.Fatal(err)
	}
	if off, _ := f.svc.ShouldOffer(ctx, f.user.ID); off {
		t.Fatal("setup offered after Not now")
	}
	if err := f.svc.Reset(ctx, f.user.ID, mfa.Meta{Operator: true}); !errors.Is(err, mfa.ErrNotEnrolled) {
		t.Fatalf("reset without an authenticator: %v", err)
	}
}

// TestReplayAcrossReplicas: two services (two hubid replicas) with their
// own Redis connections on the same Redis accept one code once between
// them, however the attempts race.
func TestReplayAcrossReplicas(t *testing.T) {
	addr, prefix := testenv.Redis(t)
	clock := storetest.NewClock(time.Date(2031, 3, 4, 5, 6, 15, 0, time.UTC))
	open := func() *redisstore.Store {
		s := redisstore.New(redisstore.NewClient(redisstore.ClientConfig{Addrs: []string{addr}}),
			redisstore.Options{Prefix: prefix, Now: clock.Now})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a := newFixture(t, open(), clock)
	secret, _ := a.enroll(t)
	// Replica b shares the durable store and the KEK in production; here
	// it verifies through its own Redis connection against a's records.
	b := *a
	bsvc, err := mfa.NewService(mfa.Config{Store: a.db, Steps: open(), Sealer: keyring(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b.svc = bsvc
	code := a.code(t, secret)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		svc := a.svc
		if i%2 == 1 {
			svc = b.svc
		}
		wg.Go(func() { _, errs[i] = svc.VerifySignIn(context.Background(), a.user.ID, code, mfa.Meta{}) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, mfa.ErrWrongCode):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent uses of one code on two replicas succeeded, want 1", ok, len(errs))
	}
}

func keyring(t *testing.T) *seal.Keyring {
	kr, err := seal.NewKeyring(seal.NewKEK([32]byte{1, 2, 3}))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func auditKinds(t *testing.T, db store.Durable, userID string) map[string]bool {
	t.Helper()
	ev, err := db.ListAudit(context.Background(), store.AuditFilter{UserID: userID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range ev {
		out[e.Kind] = true
	}
	return out
}

type parsedKey struct {
	label, issuer, alg, digits, period, secret string
	secretBytes                                int
}

// otpKey reads an otpauth:// URL as an authenticator app does.
func otpKey(raw string) (parsedKey, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return parsedKey{}, err
	}
	q := u.Query()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(q.Get("secret"))
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		return parsedKey{}, fmt.Errorf("not a TOTP URL: %s (%v)", raw, err)
	}
	return parsedKey{label: strings.TrimPrefix(u.Path, "/"), issuer: q.Get("issuer"), alg: q.Get("algorithm"),
		digits: q.Get("digits"), period: q.Get("period"), secret: q.Get("secret"), secretBytes: len(b)}, nil
}
