package account

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/store"
)

const newPassword = "plum orchard lantern 42"

func changeForm(current, next, confirm string) url.Values {
	return url.Values{"current": {current}, "new": {next}, "confirm": {confirm}}
}

// verifies reports whether pw is the user's password now.
func (e *env) verifies(userID, pw string) bool {
	e.t.Helper()
	ok, _, err := e.hasher.Verify(pw, e.user(userID).PasswordHash)
	if err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	stranger := e.addUser("ken@example.com", "Ken", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	phone := e.signIn(u, uaSafariIPhone, "203.0.113.7")
	laptop := e.signIn(u, uaFirefoxLinux, "203.0.113.8")
	theirs := e.signIn(stranger, uaFirefoxLinux, "192.0.2.99")
	e.clk.Advance(time.Hour)

	page := b.page("/account/password")
	contains(t, page, `autocomplete="current-password"`, `autocomplete="new-password"`, `minlength="8"`,
		"Use at least 8 characters.", `value="aiko@example.com" autocomplete="username"`)

	wantRedirect(t, b.post("/account/password", changeForm(testPassword, newPassword, newPassword)), "/account?done=password")

	got := e.user(u.ID)
	if !e.verifies(u.ID, newPassword) || e.verifies(u.ID, testPassword) {
		t.Fatal("the stored hash is not the new password's")
	}
	if !got.PasswordChangedAt.Equal(e.clk.Now()) {
		t.Fatalf("PasswordChangedAt = %v, want now (it ends every refresh token)", got.PasswordChangedAt)
	}
	ended := e.endedIDs()
	slices.Sort(ended)
	want := []string{phone.session.ID, laptop.session.ID}
	slices.Sort(want)
	if !slices.Equal(ended, want) {
		t.Fatalf("ended %v, want the two other sessions %v", ended, want)
	}
	// Still signed in here; the other person is untouched.
	contains(t, b.page("/account?done=password"), "Your password has been changed.")
	if theirs.get("/account").Code != http.StatusOK {
		t.Fatal("someone else's session ended")
	}
	if evs := e.audit(u.ID, KindPasswordChanged); len(evs) != 1 {
		t.Fatalf("password.changed events: %+v", evs)
	}
	if evs := e.audit(u.ID, KindSessionsEnded); len(evs) != 1 || evs[0].Detail["count"] != "2" {
		t.Fatalf("sessions.ended events: %+v", evs)
	}
	ms := e.mails()
	if len(ms) != 1 || ms[0].To != "aiko@example.com" || ms[0].Subject != "[Customer Hub] Your password was changed" {
		t.Fatalf("mails: %+v", ms)
	}
}

func TestPasswordChangeNormalizesTheNewPassword(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	decomposed := "cafe\u0301 au lait du matin" // é as e + combining acute
	wantRedirect(t, b.post("/account/password", changeForm(testPassword, decomposed, decomposed)), "/account?done=password")
	if !e.verifies(u.ID, "caf\u00e9 au lait du matin") {
		t.Fatal("the hash is not over the NFC form")
	}
}

func TestWrongCurrentPasswordChangesNothing(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	e.signIn(u, uaSafariIPhone, "203.0.113.7")
	before := e.user(u.ID)

	rec := b.post("/account/password", changeForm("not my password", newPassword, newPassword))
	wantStatus(t, rec, http.StatusUnprocessableEntity, "The current password is not correct.", `id="current"`, `aria-invalid="true" aria-describedby="form-error" autofocus`)
	lacks(t, rec.Body.String(), newPassword)
	after := e.user(u.ID)
	if after.PasswordHash != before.PasswordHash || !after.PasswordChangedAt.Equal(before.PasswordChangedAt) {
		t.Fatal("the password changed")
	}
	if len(e.endedIDs()) != 0 || len(e.mails()) != 0 || len(e.audit(u.ID, KindPasswordChanged)) != 0 {
		t.Fatal("a refused change ended sessions, sent mail or was audited as done")
	}
	evs := e.audit(u.ID, KindPasswordChangeFailed)
	if len(evs) != 1 || evs[0].IP != "198.51.100.1" {
		t.Fatalf("password.change.failed events: %+v", evs)
	}
}

func TestCurrentPasswordIsThrottled(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	for range 5 {
		wantStatus(t, b.post("/account/password", changeForm("guess", newPassword, newPassword)), http.StatusUnprocessableEntity)
	}
	// Now even the right password waits, without being checked.
	rec := b.post("/account/password", changeForm(testPassword, newPassword, newPassword))
	wantStatus(t, rec, http.StatusTooManyRequests, "Too many attempts. Try again after 2 Mar 2026, 09:01 UTC.")
	if e.verifies(u.ID, newPassword) {
		t.Fatal("changed while throttled")
	}
	if n := len(e.audit(u.ID, KindPasswordChangeFailed)); n != 5 {
		t.Fatalf("%d failure events, want 5", n)
	}
	// After the delay it works, and the success clears the account's count.
	e.clk.Advance(2 * time.Second)
	wantRedirect(t, b.post("/account/password", changeForm(testPassword, newPassword, newPassword)), "/account?done=password")
	n, _, err := e.mem.GetCounter(context.Background(), "throttle:acct:aiko@example.com")
	if err != nil || n != 0 {
		t.Fatalf("account failures after success: %d %v", n, err)
	}
}

func TestNewPasswordRefusals(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	for _, c := range []struct {
		name, current, next, confirm, want, field string
	}{
		{"common", testPassword, "password1", "password1", "This password is too common or has appeared in data breaches", "new"},
		{"short", testPassword, "kiwi7", "kiwi7", "Use at least 8 characters.", "new"},
		{"personal", testPassword, "aiko@example.com", "aiko@example.com", "Do not use your email address or name", "new"},
		{"mismatch", testPassword, newPassword, newPassword + "!", "The two new passwords do not match.", "confirm"},
		{"same", testPassword, testPassword, testPassword, "The new password is the same as the current one.", "new"},
		{"no current", "", newPassword, newPassword, "Enter your current password.", "current"},
		{"no new", testPassword, "", "", "Enter a new password.", "new"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := b.post("/account/password", changeForm(c.current, c.next, c.confirm))
			wantStatus(t, rec, http.StatusUnprocessableEntity, c.want, `id="`+c.field+`"`)
		})
	}
	if !e.verifies(u.ID, testPassword) || len(e.audit(u.ID, KindPasswordChanged)) != 0 || len(e.mails()) != 0 {
		t.Fatal("a refused password was set")
	}
}

func TestNewPasswordRefusalInJapanese(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "ja")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	rec := b.post("/account/password", changeForm(testPassword, "password1", "password1"))
	wantStatus(t, rec, http.StatusUnprocessableEntity, "このパスワードはよく使われているか", `lang="ja"`)
}

func TestPasswordChangedMailIsInTheAccountsLanguage(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "ja")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	// The switcher shows this page in English; the mail follows the setting.
	b.cookie2 = &http.Cookie{Name: "hubid_lang", Value: "en"}
	contains(t, b.page("/account/password"), `<html lang="en">`)
	wantRedirect(t, b.post("/account/password", changeForm(testPassword, newPassword, newPassword)), "/account?done=password")
	if ms := e.mails(); len(ms) != 1 || ms[0].Subject != "【カスタマーハブ】パスワードが変更されました" {
		t.Fatalf("mails: %+v", ms)
	}
}

func TestPasswordChangeIsAtomicWithItsMail(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	e.signIn(u, uaSafariIPhone, "203.0.113.7")
	e.mailErr = errBoom
	rec := b.post("/account/password", changeForm(testPassword, newPassword, newPassword))
	wantStatus(t, rec, http.StatusInternalServerError, "An unexpected error occurred.")
	lacks(t, rec.Body.String(), "boom", "mail")
	if e.verifies(u.ID, newPassword) || len(e.audit(u.ID, KindPasswordChanged)) != 0 || len(e.mails()) != 0 || len(e.endedIDs()) != 0 {
		t.Fatal("half a password change was kept")
	}
}

func TestPasswordChangedButSessionsCouldNotEnd(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	e.signIn(u, uaSafariIPhone, "203.0.113.7")
	e.endErr = errBoom
	wantRedirect(t, b.post("/account/password", changeForm(testPassword, newPassword, newPassword)), "/account?done=password-partial")
	if !e.verifies(u.ID, newPassword) {
		t.Fatal("password not changed")
	}
	contains(t, b.page("/account?done=password-partial"), "some of your other devices could not be signed out")
}

func TestConcurrentPasswordChangeIsRefused(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	// The request verified the current password against u's hash; before
	// it writes, another change replaces the hash (same password, new salt).
	other, err := e.hasher.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.UpdateUser(context.Background(), u.ID, func(x *store.User) error { x.PasswordHash = other; return nil }); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/account/password", strings.NewReader(changeForm(testPassword, newPassword, newPassword).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "198.51.100.1:50000"
	rec := httptest.NewRecorder()
	e.h.postPassword(rec, req, hub.Viewer{User: u, Session: b.session, P: e.bundle.Printer(language.English)})
	wantStatus(t, rec, http.StatusConflict, "changed at the same time")
	if got := e.user(u.ID); got.PasswordHash != other {
		t.Fatal("the concurrent change was overwritten")
	}
	if len(e.audit(u.ID, KindPasswordChanged)) != 0 || len(e.mails()) != 0 || len(e.endedIDs()) != 0 {
		t.Fatal("a refused change left traces")
	}
}
