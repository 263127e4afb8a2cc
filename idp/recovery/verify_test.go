package recovery

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/store"
)

func TestVerifyNewAccount(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("nina@example.com", "Nina", false)
	if err := e.h.SendVerification(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if n := len(e.mailsTo(u.Email, mail.KindVerifyEmail, language.English)); n != 1 {
		t.Fatalf("%d verification mails, want 1", n)
	}
	token := e.lastLink(u.Email, "verify")
	if e.user(u.ID).EmailVerified {
		t.Fatal("verified before the link was opened")
	}
	e.clk.Advance(23 * time.Hour)
	rec := e.do(http.MethodGet, "/verify?token="+token, nil, "Accept-Language", "ja")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /verify: %d\n%s", rec.Code, rec.Body)
	}
	e.wantText(rec, language.Japanese, "recovery.verify.done", u.Email)
	got := e.user(u.ID)
	if !got.EmailVerified || got.Email != u.Email {
		t.Errorf("after verification: %+v", got)
	}
	want := []string{AuditVerificationSent, AuditEmailVerified}
	if kinds := e.auditKinds(u.ID); !slices.Equal(kinds, want) {
		t.Errorf("audit %v, want %v", kinds, want)
	}
	rec = e.do(http.MethodGet, "/verify?token="+token, nil)
	if rec.Code != http.StatusGone {
		t.Fatalf("reused link: %d", rec.Code)
	}
	e.wantText(rec, language.English, "recovery.verify.used")

	// Nothing to send once verified.
	if err := e.h.SendVerification(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	if n := len(e.mailsTo(u.Email, mail.KindVerifyEmail, language.English)); n != 1 {
		t.Errorf("%d verification mails, want still 1", n)
	}
}

func TestVerifyLinkExpiredOrTampered(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("omar@example.com", "Omar", false)
	if err := e.h.SendVerification(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	token := e.lastLink(u.Email, "verify")
	tampered := token[:10] + strings.Map(func(r rune) rune {
		if r == 'x' {
			return 'y'
		}
		return 'x'
	}, token[10:11]) + token[11:]
	rec := e.do(http.MethodGet, "/verify?token="+tampered, nil)
	if rec.Code != http.StatusGone {
		t.Fatalf("tampered: %d", rec.Code)
	}
	e.wantText(rec, language.English, "recovery.verify.expired", 24)
	e.clk.Advance(VerifyTTL + time.Second)
	rec = e.do(http.MethodGet, "/verify?token="+token, nil, "Accept-Language", "ja")
	if rec.Code != http.StatusGone {
		t.Fatalf("expired: %d", rec.Code)
	}
	e.wantText(rec, language.Japanese, "recovery.verify.expired", 24)
	if e.user(u.ID).EmailVerified {
		t.Error("verified by a dead link")
	}
}

// startChange requests a change of u's address to newEmail, as the
// account pages do, in their transaction.
func (e *env) startChange(u store.User, newEmail string) {
	e.t.Helper()
	err := e.db.InTx(context.Background(), func(tx store.Durable) error {
		return e.h.StartEmailVerification(context.Background(), tx, u, newEmail, language.Japanese)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestEmailChange(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("pia@example.com", "Pia", true)
	e.forgot(u.Email) // a reset link mailed to the old address
	resetToken := e.lastLink(u.Email, "reset")
	e.startChange(u, "pia.new@example.com")

	if n := len(e.mailsTo("pia.new@example.com", mail.KindVerifyEmail, language.Japanese)); n != 1 {
		t.Fatalf("%d verification mails to the new address", n)
	}
	if n := len(e.mailsTo(u.Email, mail.KindEmailChangeNotice, language.Japanese)); n != 1 {
		t.Fatalf("%d notices to the old address", n)
	}
	if got := e.user(u.ID); got.Email != u.Email {
		t.Fatalf("address switched before verification: %s", got.Email)
	}
	rec := e.do(http.MethodGet, "/verify?token="+e.lastLink("pia.new@example.com", "verify"), nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /verify: %d\n%s", rec.Code, rec.Body)
	}
	e.wantText(rec, language.English, "recovery.verify.changed", "pia.new@example.com")
	got := e.user(u.ID)
	if got.Email != "pia.new@example.com" || !got.EmailVerified {
		t.Errorf("after verification: %s verified=%v", got.Email, got.EmailVerified)
	}
	if _, err := e.db.GetUserByEmail(context.Background(), u.Email); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old address still finds the account: %v", err)
	}
	kinds := e.auditKinds(u.ID)
	for _, k := range []string{AuditVerificationSent, AuditEmailChanged, AuditEmailVerified} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s in %v", k, kinds)
		}
	}
	// The reset link mailed to the old address no longer works.
	if rec := e.do(http.MethodGet, "/reset?token="+resetToken, nil); rec.Code != http.StatusGone {
		t.Errorf("reset link to the old address: %d", rec.Code)
	}
}

func TestEmailChangeToATakenAddressIsRefused(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("quinn@example.com", "Quinn", true)
	e.startChange(u, "shared@example.com")
	token := e.lastLink("shared@example.com", "verify")
	// Meanwhile another account takes the address (case differs).
	e.addUser("Shared@Example.com", "Other", true)

	for _, lang := range []language.Tag{language.English, language.Japanese} {
		rec := e.do(http.MethodGet, "/verify?token="+token, nil, "Accept-Language", lang.String())
		if rec.Code != http.StatusConflict {
			t.Fatalf("status %d, want 409\n%s", rec.Code, rec.Body)
		}
		e.wantText(rec, lang, "recovery.verify.taken", "shared@example.com")
		e.wantText(rec, lang, "recovery.verify.nochange")
	}
	if got := e.user(u.ID); got.Email != u.Email || !got.EmailVerified {
		t.Errorf("account changed: %s verified=%v", got.Email, got.EmailVerified)
	}
	if kinds := e.auditKinds(u.ID); slices.Contains(kinds, AuditEmailChanged) {
		t.Errorf("change audited: %v", kinds)
	}
}

func TestOnlyTheLatestVerificationLinkWorks(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("rita@example.com", "Rita", false)
	e.startChange(u, "rita.one@example.com")
	first := e.lastLink("rita.one@example.com", "verify")
	e.startChange(u, "rita.two@example.com")
	if rec := e.do(http.MethodGet, "/verify?token="+first, nil); rec.Code != http.StatusGone {
		t.Fatalf("superseded link: %d", rec.Code)
	}
	if got := e.user(u.ID); got.Email != u.Email || got.EmailVerified {
		t.Errorf("superseded link changed the account: %+v", got)
	}
}

func TestResendNeedsASessionAndSendsANewLink(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("sam@example.com", "Sam", false)
	rec := e.do(http.MethodPost, "/verify/resend", nil)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/signin") {
		t.Fatalf("without a session: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	_, cookie := e.newSession(u)
	for range 10 {
		rec = e.do(http.MethodPost, "/verify/resend", nil, "Cookie", cookie.String())
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/verify/sent" {
			t.Fatalf("resend: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	}
	if n := len(e.mailsTo(u.Email, mail.KindVerifyEmail, language.English)); n != addressPolicy.DelayAfter {
		t.Errorf("%d verification mails from 10 quick requests, want %d", n, addressPolicy.DelayAfter)
	}
	rec = e.do(http.MethodGet, "/verify/sent", nil, "Accept-Language", "ja")
	e.wantText(rec, language.Japanese, "recovery.resend.body", 24)
}

func TestMayJoinOrganization(t *testing.T) {
	unverified := store.User{ID: "u1"}
	verified := store.User{ID: "u1", EmailVerified: true}
	in := func(orgs ...string) []store.Membership {
		var ms []store.Membership
		for _, o := range orgs {
			ms = append(ms, store.Membership{UserID: "u1", OrgID: o, Role: store.RoleNormal})
		}
		return ms
	}
	cases := []struct {
		name    string
		u       store.User
		current []store.Membership
		org     string
		ok      bool
	}{
		{"unverified, first organization", unverified, nil, "o1", true},
		{"unverified, role change in its organization", unverified, in("o1"), "o1", true},
		{"unverified, second organization", unverified, in("o1"), "o2", false},
		{"verified, second organization", verified, in("o1"), "o2", true},
		{"verified, third organization", verified, in("o1", "o2"), "o3", true},
	}
	for _, c := range cases {
		err := MayJoinOrganization(c.u, c.current, c.org)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && (!errors.Is(err, ErrEmailUnverified) || apperr.CodeOf(err) != apperr.Forbidden) {
			t.Errorf("%s: refusal %v is not a Forbidden ErrEmailUnverified", c.name, err)
		}
	}
}
