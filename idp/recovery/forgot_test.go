package recovery

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/store"
)

// sameAnswer fails unless two responses are byte-identical: status,
// headers and body.
func sameAnswer(t *testing.T, what string, a, b *httptest.ResponseRecorder) {
	t.Helper()
	if a.Code != b.Code || !reflect.DeepEqual(a.Header(), b.Header()) || a.Body.String() != b.Body.String() {
		t.Errorf("%s: answers differ:\n%d %v %q\n%d %v %q", what, a.Code, a.Header(), a.Body, b.Code, b.Header(), b.Body)
	}
}

func TestForgotAnswersTheSameForUnknownAndDisabled(t *testing.T) {
	e := newEnv(t)
	known := e.addUser("ivan@example.com", "Ivan", true)
	off := e.addUser("jane@example.com", "Jane", true)
	if _, err := e.db.UpdateUser(context.Background(), off.ID, func(u *store.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	recKnown := e.forgot(known.Email)
	if recKnown.Code != http.StatusSeeOther || recKnown.Header().Get("Location") != "/forgot/sent" {
		t.Fatalf("known: %d %q", recKnown.Code, recKnown.Header().Get("Location"))
	}
	sameAnswer(t, "unknown address", recKnown, e.forgot("nobody@example.com"))
	sameAnswer(t, "disabled account", recKnown, e.forgot(off.Email))

	mails := e.mails()
	if len(mails) != 1 || mails[0].To != known.Email {
		t.Fatalf("mails %+v, want one to %s", mails, known.Email)
	}
	if kinds := e.auditKinds(off.ID); len(kinds) != 0 {
		t.Errorf("disabled account audit: %v", kinds)
	}
	// The page the answer leads to does not depend on the address either.
	for _, lang := range []language.Tag{language.English, language.Japanese} {
		rec := e.do(http.MethodGet, "/forgot/sent", nil, "Accept-Language", lang.String())
		e.wantText(rec, lang, "recovery.sent.body", 30)
	}
}

// blockingDirectory blocks every address lookup until released.
type blockingDirectory struct {
	Directory
	release chan struct{}
}

func (b blockingDirectory) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	<-b.release
	return b.Directory.GetUserByEmail(ctx, email)
}

// The answer is given before the address is looked up, so it cannot take
// longer for a known address than for an unknown one.
func TestForgotAnswersBeforeLookingUp(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, func(d *Deps) { d.Directory = blockingDirectory{Directory: d.Directory, release: release} })
	u := e.addUser("kate@example.com", "Kate", true)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- e.do(http.MethodPost, "/forgot", url.Values{"email": {u.Email}}) }()
	select {
	case rec := <-done:
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d", rec.Code)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("POST /forgot waited for the account lookup")
	}
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d mails before the lookup", n)
	}
	close(release)
	e.h.Wait()
	if n := len(e.mailsTo(u.Email, mail.KindPasswordReset, language.English)); n != 1 {
		t.Fatalf("%d reset mails after the lookup, want 1", n)
	}
}

func TestForgotIsThrottledPerAddress(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("leo@example.com", "Leo", true)
	first := e.forgot(u.Email)
	for range 9 {
		sameAnswer(t, "throttled", first, e.forgot(u.Email))
	}
	count := func() int { return len(e.mailsTo(u.Email, mail.KindPasswordReset, language.English)) }
	if n := count(); n != addressPolicy.DelayAfter {
		t.Fatalf("%d mails from 10 requests at once, want %d", n, addressPolicy.DelayAfter)
	}
	// Spread out, the address still gets at most LockAfter an hour.
	for range 10 {
		e.clk.Advance(time.Minute)
		e.forgot(u.Email)
	}
	if n := count(); n != addressPolicy.LockAfter {
		t.Fatalf("%d mails within the window, want %d", n, addressPolicy.LockAfter)
	}
	e.clk.Advance(addressPolicy.Window)
	e.forgot(u.Email)
	if n := count(); n != addressPolicy.LockAfter+1 {
		t.Fatalf("no mail after the window: %d", n)
	}
	// Sign-in throttling is not touched: its keys are not /forgot's.
	if n, _, _ := e.mem.GetCounter(context.Background(), "throttle:acct:"+u.Email); n != 0 {
		t.Errorf("sign-in counter of the address is %d", n)
	}
}

func TestForgotIsThrottledPerIP(t *testing.T) {
	e := newEnv(t)
	first := e.forgot("nobody@example.com")
	for i := range ipPolicy.DelayAfter + 10 {
		email := fmt.Sprintf("user%02d@example.com", i)
		e.addUser(email, "U", true)
		sameAnswer(t, "throttled IP", first, e.forgot(email))
	}
	// One request went to an unknown address; it counts all the same.
	if n := len(e.mails()); n != ipPolicy.DelayAfter-1 {
		t.Fatalf("%d mails from one IP at once, want %d", n, ipPolicy.DelayAfter-1)
	}
}

func TestForgotRefusesNonAddresses(t *testing.T) {
	e := newEnv(t)
	for _, bad := range []string{"", "   ", "no-at-sign", "@example.com", "a@", "a b@example.com", string(make([]byte, 300)) + "@x"} {
		rec := e.forgot(bad)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%q: %d", bad, rec.Code)
		}
		e.wantText(rec, language.English, "recovery.forgot.required")
	}
	if n := len(e.mails()); n != 0 {
		t.Errorf("%d mails", n)
	}
}

func TestForgotMailIsInTheAccountLanguage(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("mei@example.com", "Mei", true)
	if _, err := e.db.UpdateUser(context.Background(), u.ID, func(u *store.User) error { u.Locale = "ja"; return nil }); err != nil {
		t.Fatal(err)
	}
	e.do(http.MethodPost, "/forgot", url.Values{"email": {u.Email}}, "Accept-Language", "en")
	e.h.Wait()
	if n := len(e.mailsTo(u.Email, mail.KindPasswordReset, language.Japanese)); n != 1 {
		t.Errorf("%d Japanese reset mails, want 1", n)
	}
	// A page in the browser's language.
	rec := e.do(http.MethodGet, "/forgot", nil, "Accept-Language", "ja")
	e.wantText(rec, language.Japanese, "recovery.forgot.intro")
	if !slices.Contains(e.auditKinds(u.ID), AuditResetRequested) {
		t.Error("request not audited")
	}
}
