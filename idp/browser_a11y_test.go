package idp_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/customerhub/hubid/internal/browsertest"
	"github.com/customerhub/hubid/store"
)

// visit opens path and has axe-core check it.
func visit(t *testing.T, ctx context.Context, base, path, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	browsertest.RequireAccessible(t, ctx, name)
}

// checkHere has axe-core check the page the browser shows.
func checkHere(t *testing.T, ctx context.Context, name string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, browsertest.Text(t, ctx))
	}
	browsertest.RequireAccessible(t, ctx, name)
}

// TestBrowserAccessibility runs axe-core on every page a person can reach,
// signed out and signed in, in English and Japanese, and fails on a
// serious or critical violation.
func TestBrowserAccessibility(t *testing.T) {
	env := browserEnv(t)
	rp := newBrowserRP(t, env, "partner", "nk-ships")
	if _, err := env.Durable.UpdateClient(t.Context(), "partner", func(c *store.Client) error {
		c.FirstParty = false // shows the consent page
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) {
			ctx := browsertest.New(t)
			u := env.URL
			visit(t, ctx, u, "/signin?lang="+lang, "sign-in email page")
			checkHere(t, ctx, "sign-in email page with an error",
				chromedp.SendKeys(chromedp.CSS("#email"), "not-an-address"),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				// the message is tied to its field
				chromedp.WaitVisible(chromedp.CSS("#email[aria-invalid=true][aria-describedby~=email-error]")),
				chromedp.WaitVisible(chromedp.CSS("#email-error[role=alert]")))
			checkHere(t, ctx, "sign-in password page",
				chromedp.SetValue(chromedp.CSS("#email"), "admin@demo.example"),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#password")))
			checkHere(t, ctx, "sign-in password page with an error",
				chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#password[aria-invalid=true][aria-describedby~=password-error]")),
				chromedp.WaitVisible(chromedp.CSS("#password-error[role=alert]")))
			checkHere(t, ctx, "forgot password",
				chromedp.Click(chromedp.CSS("a[href^='/forgot']")),
				chromedp.WaitVisible(chromedp.CSS("form[action='/forgot']")))
			checkHere(t, ctx, "forgot password sent",
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitNotPresent(chromedp.CSS("form[action='/forgot']")))
			visit(t, ctx, u, "/reset?token=not-a-token", "unusable reset link")
			visit(t, ctx, u, "/reset/done", "password reset done")
			visit(t, ctx, u, "/login?authRequestID=expired", "error page")
			visit(t, ctx, u, "/preregister", "pre-registration")
			visit(t, ctx, u, "/logged-out", "signed out")
			visit(t, ctx, u, "/no-such-page", "not found")

			// Signed in: the hub's pages.
			checkHere(t, ctx, "hub home",
				chromedp.Navigate(u+"/"),
				chromedp.WaitVisible(chromedp.CSS("#email")),
				chromedp.SetValue(chromedp.CSS("#email"), "admin@demo.example"),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#password")),
				chromedp.SendKeys(chromedp.CSS("#password"), "hubid-demo-password"),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("a[href='/account']")))
			for _, p := range []string{"/account", "/account/password", "/account/email", "/account/mfa", "/account/history", "/logout"} {
				visit(t, ctx, u, p, p)
			}
			visit(t, ctx, u, "/account/mfa", "two-step verification")
			checkHere(t, ctx, "two-step verification setup",
				chromedp.Click(chromedp.CSS("#mfa-setup")),
				chromedp.WaitVisible(chromedp.CSS("form[action='/account/mfa/activate'], form[action='/account/mfa/verify']")))
			visit(t, ctx, u, "/console/", "console")
			visit(t, ctx, u, "/no-such-page", "not found, signed in (avatar menu)")
			for _, p := range []string{"members", "invitations", "applications", "security", "history", "legacy"} {
				visit(t, ctx, u, "/console/NK0001/"+p, "console "+p)
				if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/console/NK0001/"+p) {
					t.Errorf("console %s: ended at %s", p, loc)
				}
			}
			// A person in two organizations, at a service that asks which one.
			other := browsertest.New(t)
			checkHere(t, other, "organization choice",
				chromedp.Navigate(u+"/signin?lang="+lang),
				chromedp.WaitVisible(chromedp.CSS("#email")),
				chromedp.Navigate(u+"/authorize?"+url.Values{"client_id": {"nk-pass-demo"}, "redirect_uri": {"http://localhost:9002/callback"},
					"response_type": {"code"}, "scope": {"openid"}, "state": {"a11y"},
					"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode()),
				chromedp.WaitVisible(chromedp.CSS("#email")),
				chromedp.SendKeys(chromedp.CSS("#email"), "multi@demo.example"),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#password")),
				chromedp.SendKeys(chromedp.CSS("#password"), "hubid-demo-password"),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("form[action='/login/org']")))
			checkHere(t, ctx, "consent page",
				chromedp.Navigate(rp.authURL("state-a11y")),
				chromedp.WaitVisible(chromedp.CSS("form[action='/consent']")))
		})
	}
}
