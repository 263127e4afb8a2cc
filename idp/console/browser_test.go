package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/customerhub/hubid/demo"
	"github.com/customerhub/hubid/internal/browsertest"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// run runs browser steps and fails the test with the page's text.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\npage:\n%s", what, err, browsertest.Text(t, ctx))
	}
}

// signInSteps fill hubid's two sign-in pages.
func signInSteps(addr string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), addr),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
	}
}

// An administrator invites a new person through the console; the mail
// arrives in the dev mailbox; the person accepts, sets a password and
// signs in to a demo service, whose tokens carry the organization.
func TestBrowserInviteAcceptAndSignInToAService(t *testing.T) {
	w := newWorld(t)
	// The demo service (NK-SHIPS stand-in), registered as a client of the
	// service the organization is entitled to.
	svc := w.env.EnsureService(t, "nk-ships")
	ts := hubtest.UnstartedServer(t)
	base := "http://" + ts.Listener.Addr().String()
	const secret = "console-demo-secret-0123456789-0123456789"
	w.env.AddClient(t, store.Client{ID: "console-demo", Name: "NK-SHIPS (demo)", ServiceID: svc.ID,
		RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/"}}, secret)
	if err := w.env.Server.RefreshOrigins(t.Context()); err != nil {
		t.Fatal(err)
	}
	app, err := demo.New(t.Context(), demo.Config{Issuer: w.env.URL, ClientID: "console-demo", ClientSecret: secret, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app
	ts.Start()
	t.Cleanup(ts.Close)

	ctx := browsertest.New(t)
	const addr = "invitee@example.com"
	run(t, ctx, "administrator signs in", append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(w.env.URL + "/")},
		append(signInSteps(email(adminA)), chromedp.WaitVisible(chromedp.CSS("a[href='/console/']")))...)...)
	run(t, ctx, "to the console", chromedp.Click(chromedp.CSS("a[href='/console/']")),
		chromedp.WaitVisible(chromedp.CSS("a[href='/console/ORGA/members']")),
		chromedp.Click(chromedp.CSS("a[href='/console/ORGA/members']")),
		chromedp.WaitVisible(chromedp.CSS("a[href='/console/ORGA/invitations']")))
	browsertest.Screenshot(t, ctx, "console-members")
	run(t, ctx, "invite", chromedp.Click(chromedp.CSS("a[href='/console/ORGA/invitations']")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), addr),
		chromedp.SetValue(chromedp.CSS("#role"), "visitor"),
		chromedp.Click(chromedp.CSS("form[action='/console/ORGA/invitations'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	browsertest.Screenshot(t, ctx, "console-invitations")
	if text := browsertest.Text(t, ctx); !strings.Contains(text, addr) {
		t.Fatalf("the invitation is not listed:\n%s", text)
	}
	// Delivered to the dev mailbox; the invitee's own browser (no cookies).
	if sent, _, err := w.env.Server.Mailer().RunOnce(t.Context()); err != nil || sent == 0 {
		t.Fatalf("mail delivery: %d, %v", sent, err)
	}
	run(t, ctx, "a fresh browser", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
		return chromedp.Void{}, err
	})
	run(t, ctx, "dev mailbox", chromedp.Navigate(w.env.URL+"/dev/mail/"),
		chromedp.Click(chromedp.CSS("td a")),
		chromedp.WaitVisible(chromedp.CSS("pre a")),
		chromedp.Click(chromedp.CSS("pre a")),
		chromedp.WaitVisible(chromedp.CSS("#name")))
	browsertest.Screenshot(t, ctx, "invitation-accept")
	run(t, ctx, "accept", chromedp.SendKeys(chromedp.CSS("#name"), "Invitee Person"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), testPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	// Sign in to the demo service: its page shows the `orgs` claim.
	run(t, ctx, "demo service sign-in", append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/login")},
		append(signInSteps(addr), chromedp.WaitVisible(chromedp.CSS("table")))...)...)
	text := browsertest.Text(t, ctx)
	if !strings.Contains(text, "ORGA") || !strings.Contains(text, "visitor") || !strings.Contains(text, addr) {
		t.Fatalf("the demo service does not show the organization:\n%s", text)
	}
	browsertest.Screenshot(t, ctx, "console-invitee-demo")
}
