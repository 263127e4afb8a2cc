package recovery

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/store"
)

// enrollMFA gives u a TOTP enrollment and two recovery codes.
func (e *env) enrollMFA(u store.User) {
	e.t.Helper()
	ctx := context.Background()
	now := e.clk.Now()
	if err := e.db.PutTOTP(ctx, store.TOTPCredential{UserID: u.ID, Sealed: []byte("sealed"), ConfirmedAt: now, CreatedAt: now}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.ReplaceRecoveryCodes(ctx, u.ID, []string{"code-hash-1", "code-hash-2"}); err != nil {
		e.t.Fatal(err)
	}
}

// unchanged fails unless u's password, MFA and sessions are as before a
// reset attempt.
func (e *env) unchanged(before store.User, sessions int) {
	e.t.Helper()
	ctx := context.Background()
	u := e.user(before.ID)
	if u.PasswordHash != before.PasswordHash || !u.PasswordChangedAt.Equal(before.PasswordChangedAt) {
		e.t.Error("the password changed")
	}
	if _, err := e.db.GetTOTP(ctx, u.ID); err != nil {
		e.t.Errorf("TOTP enrollment gone: %v", err)
	}
	if codes, _ := e.db.ListRecoveryCodes(ctx, u.ID); len(codes) != 2 {
		e.t.Errorf("recovery codes: %d, want 2", len(codes))
	}
	if ss, _ := e.sessions.List(ctx, u.ID); len(ss) != sessions {
		e.t.Errorf("sessions: %d, want %d", len(ss), sessions)
	}
	if n := len(e.mailsTo(u.Email, mail.KindPasswordResetDone, language.English)); n != 0 {
		e.t.Errorf("%d reset notices queued", n)
	}
	if slices.Contains(e.auditKinds(u.ID), AuditReset) {
		e.t.Error("password.reset audited")
	}
}

func resetForm(token, pw string) url.Values {
	return url.Values{"token": {token}, "password": {pw}, "confirm": {pw}}
}

func TestResetFlow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.addUser("alice@example.com", "Alice", true)
	e.enrollMFA(u)
	s1, cookie := e.newSession(u)
	s2, _ := e.newSession(u)

	rec := e.forgot("Alice@Example.com ")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/forgot/sent" {
		t.Fatalf("POST /forgot: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if n := len(e.mailsTo(u.Email, mail.KindPasswordReset, language.English)); n != 1 {
		t.Fatalf("%d reset mails, want 1", n)
	}
	token := e.lastLink(u.Email, "reset")
	if raw, err := decodeToken(token); err != nil || len(raw) < 16 {
		t.Fatalf("token %q: %d bytes, %v; want >= 128 bits", token, len(raw), err)
	}
	raw, _ := decodeToken(token)
	sum := sha256.Sum256(raw)
	if got := e.storedTokens(u.ID, store.TokenPasswordReset); !slices.Equal(got, []string{base64.RawURLEncoding.EncodeToString(sum[:])}) {
		t.Fatalf("stored %q, want only the SHA-256 of the link's token", got)
	}

	// Opening the link shows the form and does not use the link up.
	for range 2 {
		rec = e.do(http.MethodGet, "/reset?token="+token, nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `value="`+token+`"`) {
			t.Fatalf("GET /reset: %d\n%s", rec.Code, rec.Body)
		}
	}
	e.wantText(rec, language.English, "recovery.reset.for", u.Email)

	e.clk.Advance(time.Minute)
	rec = e.do(http.MethodPost, "/reset", resetForm(token, newPassword), "Cookie", cookie.String())
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/reset/done" {
		t.Fatalf("POST /reset: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].Name != cookie.Name || c[0].MaxAge >= 0 {
		t.Errorf("the browser's session cookie is not cleared: %v", c)
	}

	got := e.user(u.ID)
	if ok, _, err := e.hasher.Verify(pwpolicy.Normalize(newPassword), got.PasswordHash); err != nil || !ok {
		t.Errorf("the new password does not verify: %v", err)
	}
	if ok, _, _ := e.hasher.Verify(oldPassword, got.PasswordHash); ok {
		t.Error("the old password still verifies")
	}
	if !got.PasswordChangedAt.Equal(e.clk.Now()) {
		t.Errorf("PasswordChangedAt = %v, want %v (refresh tokens issued before must fail)", got.PasswordChangedAt, e.clk.Now())
	}
	if _, err := e.db.GetTOTP(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TOTP enrollment not cleared: %v", err)
	}
	if codes, err := e.db.ListRecoveryCodes(ctx, u.ID); err != nil || len(codes) != 0 {
		t.Errorf("recovery codes not cleared: %d, %v", len(codes), err)
	}
	if ss, err := e.sessions.List(ctx, u.ID); err != nil || len(ss) != 0 {
		t.Errorf("%d sessions left, %v", len(ss), err)
	}
	if !slices.Contains(e.ended, s1.ID) || !slices.Contains(e.ended, s2.ID) {
		t.Errorf("EndSession not called for every session (back-channel logouts): %v", e.ended)
	}
	notices := e.mailsTo(u.Email, mail.KindPasswordResetDone, language.English)
	if len(notices) != 1 {
		t.Fatalf("%d reset notices, want 1", len(notices))
	}
	want, _ := e.composer.Compose(mail.KindPasswordResetDone, language.English, u.Email, mail.NameData{Name: u.Name})
	if notices[0].Text != want.Text {
		t.Errorf("notice text:\n%s\nwant:\n%s", notices[0].Text, want.Text)
	}
	wantKinds := []string{AuditResetRequested, AuditReset, AuditMFACleared, AuditSessionsEnded}
	if kinds := e.auditKinds(u.ID); !slices.Equal(kinds, wantKinds) {
		t.Errorf("audit events %v, want %v", kinds, wantKinds)
	}

	rec = e.do(http.MethodGet, "/reset/done", nil)
	e.wantText(rec, language.English, "recovery.done.body")
}

func decodeToken(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

func TestResetLinkExpired(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("bob@example.com", "Bob", true)
	e.enrollMFA(u)
	e.newSession(u)
	e.forgot(u.Email)
	token := e.lastLink(u.Email, "reset")

	e.clk.Advance(29 * time.Minute)
	if rec := e.do(http.MethodGet, "/reset?token="+token, nil); rec.Code != http.StatusOK {
		t.Fatalf("link dead after 29 minutes: %d", rec.Code)
	}
	e.clk.Advance(2 * time.Minute)
	for _, lang := range []language.Tag{language.English, language.Japanese} {
		rec := e.do(http.MethodGet, "/reset?token="+token, nil, "Accept-Language", lang.String())
		if rec.Code != http.StatusGone {
			t.Fatalf("GET expired link: %d", rec.Code)
		}
		e.wantText(rec, lang, "recovery.link.expired", 30)
		e.wantText(rec, lang, "recovery.link.again")
		if !strings.Contains(rec.Body.String(), `href="/forgot"`) {
			t.Error("no way to ask for a new link")
		}
	}
	rec := e.do(http.MethodPost, "/reset", resetForm(token, newPassword))
	if rec.Code != http.StatusGone {
		t.Fatalf("POST expired link: %d", rec.Code)
	}
	e.wantText(rec, language.English, "recovery.link.expired", 30)
	e.unchanged(u, 1)
}

func TestResetLinkReused(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("carol@example.com", "Carol", true)
	e.forgot(u.Email)
	token := e.lastLink(u.Email, "reset")
	if rec := e.do(http.MethodPost, "/reset", resetForm(token, newPassword)); rec.Code != http.StatusSeeOther {
		t.Fatalf("first use: %d\n%s", rec.Code, rec.Body)
	}
	after := e.user(u.ID)
	e.clk.Advance(time.Minute)
	for _, rec := range []interface {
		Result() *http.Response
	}{
		e.do(http.MethodGet, "/reset?token="+token, nil),
		e.do(http.MethodPost, "/reset", resetForm(token, "another long passphrase here")),
	} {
		if rec.Result().StatusCode != http.StatusGone {
			t.Fatalf("reused link: %d", rec.Result().StatusCode)
		}
	}
	rec := e.do(http.MethodPost, "/reset", resetForm(token, "another long passphrase here"), "Accept-Language", "ja")
	e.wantText(rec, language.Japanese, "recovery.link.used")
	if got := e.user(u.ID); got.PasswordHash != after.PasswordHash || !got.PasswordChangedAt.Equal(after.PasswordChangedAt) {
		t.Error("a reused link changed the password")
	}
	if n := len(e.mailsTo(u.Email, mail.KindPasswordResetDone, language.English)); n != 1 {
		t.Errorf("%d reset notices, want 1", n)
	}
}

func TestResetLinkTampered(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("dave@example.com", "Dave", true)
	e.enrollMFA(u)
	e.newSession(u)
	e.forgot(u.Email)
	token := e.lastLink(u.Email, "reset")
	// flip changes the lowest bit of the i-th character's 6 bits.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	flip := func(s string, i int) string {
		return s[:i] + string(alphabet[strings.IndexByte(alphabet, s[i])^1]) + s[i+1:]
	}
	// The first, a middle and the last character (whose low bits are
	// padding: strict decoding must refuse a change there too).
	for _, bad := range []string{flip(token, 0), flip(token, len(token)/2), flip(token, len(token)-1), token[:len(token)-1], token + "A", ""} {
		for _, rec := range []interface {
			Result() *http.Response
		}{
			e.do(http.MethodGet, "/reset?token="+url.QueryEscape(bad), nil),
			e.do(http.MethodPost, "/reset", resetForm(bad, newPassword)),
		} {
			if rec.Result().StatusCode != http.StatusGone {
				t.Errorf("tampered link %q: %d", bad, rec.Result().StatusCode)
			}
		}
	}
	rec := e.do(http.MethodGet, "/reset?token="+flip(token, 5), nil, "Accept-Language", "ja")
	e.wantText(rec, language.Japanese, "recovery.link.expired", 30)
	e.unchanged(u, 1)
	// The genuine link still works.
	if rec := e.do(http.MethodGet, "/reset?token="+token, nil); rec.Code != http.StatusOK {
		t.Errorf("genuine link after tampering: %d", rec.Code)
	}
}

func TestResetRefusesWeakPasswordAndKeepsTheLink(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("erin@example.com", "Erin", true)
	e.enrollMFA(u)
	e.newSession(u)
	e.forgot(u.Email)
	token := e.lastLink(u.Email, "reset")

	cases := []struct {
		pw, confirm, key string
		args             []any
	}{
		{"iloveyou12", "iloveyou12", pwpolicy.KeyCommon, nil},
		{"short", "short", pwpolicy.KeyTooShort, []any{8}},
		{"erin@example.com", "erin@example.com", pwpolicy.KeyPersonal, nil},
		{newPassword, newPassword + "x", "recovery.reset.mismatch", nil},
	}
	for _, c := range cases {
		for _, lang := range []language.Tag{language.English, language.Japanese} {
			rec := e.do(http.MethodPost, "/reset", url.Values{"token": {token}, "password": {c.pw}, "confirm": {c.confirm}},
				"Accept-Language", lang.String())
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("%s: %d\n%s", c.key, rec.Code, rec.Body)
			}
			e.wantText(rec, lang, c.key, c.args...)
			if !strings.Contains(rec.Body.String(), `value="`+token+`"`) {
				t.Errorf("%s: the form lost the link", c.key)
			}
		}
	}
	e.unchanged(u, 1)
	if rec := e.do(http.MethodPost, "/reset", resetForm(token, newPassword)); rec.Code != http.StatusSeeOther {
		t.Errorf("the link did not survive the refusals: %d", rec.Code)
	}
}

func TestNewRequestRevokesOlderLink(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("frank@example.com", "Frank", true)
	e.forgot(u.Email)
	first := e.lastLink(u.Email, "reset")
	e.clk.Advance(time.Minute)
	e.forgot(u.Email)
	second := e.lastLink(u.Email, "reset")
	if first == second {
		t.Fatal("same token twice")
	}
	if rec := e.do(http.MethodGet, "/reset?token="+first, nil); rec.Code != http.StatusGone {
		t.Errorf("older link still works: %d", rec.Code)
	}
	if rec := e.do(http.MethodGet, "/reset?token="+second, nil); rec.Code != http.StatusOK {
		t.Errorf("newest link: %d", rec.Code)
	}
}

func TestResetLinkOfDisabledAccount(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("gina@example.com", "Gina", true)
	e.forgot(u.Email)
	token := e.lastLink(u.Email, "reset")
	if _, err := e.db.UpdateUser(context.Background(), u.ID, func(u *store.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(http.MethodPost, "/reset", resetForm(token, newPassword)); rec.Code != http.StatusGone {
		t.Errorf("disabled account reset: %d", rec.Code)
	}
	if e.user(u.ID).PasswordHash != u.PasswordHash {
		t.Error("a disabled account's password changed")
	}
}

// A reset link works only while the account has the address it was
// mailed to, however the address changed.
func TestResetLinkDiesWithItsAddress(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("ivy@example.com", "Ivy", true)
	e.forgot(u.Email)
	token := e.lastLink(u.Email, "reset")
	if _, err := e.db.UpdateUser(context.Background(), u.ID, func(u *store.User) error { u.Email = "ivy@elsewhere.example"; return nil }); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(http.MethodPost, "/reset", resetForm(token, newPassword)); rec.Code != http.StatusGone {
		t.Errorf("reset link of a previous address: %d", rec.Code)
	}
	if e.user(u.ID).PasswordHash != u.PasswordHash {
		t.Error("the password changed")
	}
}

// A failure to end the sessions (the ephemeral store is down) is reported,
// not hidden behind the success page: 503 (a backend is down), with the
// message that the password did change.
func TestResetReportsSessionsLeft(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.EndSession = func(context.Context, string) error { return store.ErrUnavailable }
	})
	u := e.addUser("hank@example.com", "Hank", true)
	e.newSession(u)
	e.forgot(u.Email)
	rec := e.do(http.MethodPost, "/reset", resetForm(e.lastLink(u.Email, "reset"), newPassword))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	e.wantText(rec, language.English, "recovery.partial")
}
