package account

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/store"
)

func emailForm(email, current string) url.Values {
	return url.Values{"email": {email}, "current": {current}}
}

func TestEmailChangeStartsVerificationOnly(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "ja")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")

	contains(t, b.page("/account/email"), "メールアドレスの変更", "aiko@example.com", `autocomplete="current-password"`)
	wantRedirect(t, b.post("/account/email", emailForm(" aiko.tanaka@example.org ", testPassword)), "/account?done=email")

	if got := e.user(u.ID); got.Email != "aiko@example.com" || !got.EmailVerified {
		t.Fatalf("the address changed before verification: %+v", got)
	}
	if !slices.Equal(e.emailStarts, []emailStart{{u.ID, "aiko.tanaka@example.org", language.Japanese}}) {
		t.Fatalf("verification started with %+v", e.emailStarts)
	}
	if ms := e.mails(); len(ms) != 2 {
		t.Fatalf("mails %+v", ms)
	}
	evs := e.audit(u.ID, KindEmailChangeRequested)
	if len(evs) != 1 || evs[0].Detail["from"] != "aiko@example.com" || evs[0].Detail["to"] != "aiko.tanaka@example.org" {
		t.Fatalf("audit: %+v", evs)
	}
	contains(t, b.page("/account?done=email"), "新しいメールアドレスにリンクを送信しました。")
	if len(e.endedIDs()) != 0 {
		t.Fatal("an email change request ended sessions")
	}
}

func TestEmailChangeRefusals(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	for _, c := range []struct{ name, email, current, want, field string }{
		{"empty", "", testPassword, "Enter the new email address.", "email"},
		{"not an address", "aiko at example", testPassword, "Enter an email address like name@example.com.", "email"},
		{"display name", "Aiko <aiko@example.org>", testPassword, "Enter an email address like", "email"},
		{"same, other case", "AIKO@example.com", testPassword, "This is already your email address.", "email"},
		{"no password", "aiko@example.org", "", "Enter your current password.", "current"},
		{"wrong password", "aiko@example.org", "guess", "The current password is not correct.", "current"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := b.post("/account/email", emailForm(c.email, c.current))
			wantStatus(t, rec, http.StatusUnprocessableEntity, c.want, `id="`+c.field+`"`, `aria-invalid="true"`)
		})
	}
	if len(e.emailStarts) != 0 || len(e.mails()) != 0 || len(e.audit(u.ID, KindEmailChangeRequested)) != 0 {
		t.Fatal("a refused request started a verification")
	}
	if evs := e.audit(u.ID, KindEmailChangeFailed); len(evs) != 1 {
		t.Fatalf("email.change.failed events: %+v", evs)
	}
}

func TestEmailChangeToAnAddressInUse(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	e.startErr = fmt.Errorf("recovery: %w", store.ErrAlreadyExists)
	rec := b.post("/account/email", emailForm("ken@example.com", testPassword))
	wantStatus(t, rec, http.StatusUnprocessableEntity, "This address cannot be used.", `value="ken@example.com"`)
	// The token and mails written before the refusal were rolled back.
	if _, err := e.db.ConsumeOneTimeToken(context.Background(), "tok-"+u.ID+"-ken@example.com", store.TokenVerifyEmail, e.clk.Now()); err == nil {
		t.Fatal("the verification token survived the rollback")
	}
	if len(e.mails()) != 0 || len(e.audit(u.ID, KindEmailChangeRequested)) != 0 {
		t.Fatal("half an email change request was kept")
	}
}
