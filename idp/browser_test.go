package idp_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/customerhub/hubid/internal/browsertest"
	"github.com/customerhub/hubid/internal/hubtest"
)

// browserEnv starts hubid with the demo seed for a real browser.
func browserEnv(t *testing.T) *hubtest.Env {
	env := hubtest.New(t, hubtest.Options{})
	env.ApplySeed(t, "../deploy/dev/seed.yaml")
	return env
}

// signInInBrowser opens the hub and signs in as the demo administrator,
// saving screenshots of the two sign-in pages and the home page.
func signInInBrowser(t *testing.T, env *hubtest.Env, remember bool) context.Context {
	return signInInBrowserIn(t, env, remember, "")
}

// signInInBrowserIn is signInInBrowser in language lang ("" = the
// browser's, English), chosen with the pages' ?lang= switch; screenshots
// of another language than English are named with "-<lang>".
func signInInBrowserIn(t *testing.T, env *hubtest.Env, remember bool, lang string) context.Context {
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+langQuery(lang)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	); err != nil {
		t.Fatalf("sign-in page: %v", err)
	}
	shot := func(name string) { browsertest.Screenshot(t, ctx, name+langSuffix(lang)) }
	shot("signin-email")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), "admin@demo.example"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	); err != nil {
		t.Fatalf("email step: %v", err)
	}
	shot("signin-password")
	steps := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#password"), "hubid-demo-password")}
	if remember {
		steps = append(steps, chromedp.Click(chromedp.CSS("input[name=remember]")))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("a[href='/account']")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("password step: %v\npage: %s", err, browsertest.Text(t, ctx))
	}
	shot("home")
	return ctx
}

// langQuery is the path that opens the hub in lang ("" = as the browser
// asks).
func langQuery(lang string) string {
	if lang == "" {
		return "/"
	}
	return "/?lang=" + lang
}

// langSuffix names a screenshot of lang ("" for English).
func langSuffix(lang string) string {
	if lang == "" || lang == "en" {
		return ""
	}
	return "-" + lang
}

// sessionCookie returns the session cookie's expiry and whether it is a
// browser-session cookie.
func sessionCookie(t *testing.T, ctx context.Context) (time.Time, bool) {
	t.Helper()
	for _, c := range browsertest.Cookies(t, ctx) {
		if c.Name == "hubid_session" {
			if !c.HTTPOnly || c.Path != "/" {
				t.Errorf("session cookie attributes: httpOnly %v path %q", c.HTTPOnly, c.Path)
			}
			return time.Unix(int64(c.Expires), 0), c.Session
		}
	}
	t.Fatal("no hubid_session cookie in the browser")
	return time.Time{}, false
}

func TestBrowserRememberMeLasts14Days(t *testing.T) {
	env := browserEnv(t)
	ctx := signInInBrowser(t, env, true)
	exp, session := sessionCookie(t, ctx)
	want := time.Now().Add(14 * 24 * time.Hour)
	if session || exp.Before(want.Add(-time.Minute)) || exp.After(want.Add(time.Minute)) {
		t.Fatalf("with the checkbox the cookie must last 14 days: expires %v (session %v), want ≈ %v", exp, session, want)
	}
}

func TestBrowserWithoutRememberIsASessionCookie(t *testing.T) {
	env := browserEnv(t)
	ctx := signInInBrowser(t, env, false)
	if _, session := sessionCookie(t, ctx); !session {
		t.Fatal("without the checkbox the cookie must be a browser-session cookie")
	}
}

func TestBrowserChangeLanguage(t *testing.T) {
	env := browserEnv(t)
	ctx := signInInBrowser(t, env, false)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("a[lang=ja]")),
		chromedp.WaitVisible(chromedp.CSS("html[lang=ja]")),
	); err != nil {
		t.Fatalf("switch to Japanese: %v", err)
	}
	if text := browsertest.Text(t, ctx); !strings.Contains(text, "アカウント設定") || !strings.Contains(text, "管理者") {
		t.Fatalf("page not in Japanese:\n%s", text)
	}
	browsertest.Screenshot(t, ctx, "home-ja")
	// The choice sticks on the next page.
	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible(chromedp.CSS("html[lang=ja]"))); err != nil {
		t.Fatalf("language did not stick: %v", err)
	}
}

// deliverMail waits (bounded) for the background /forgot job to queue a
// mail, then delivers it to the dev mailbox.
func deliverMail(t *testing.T, env *hubtest.Env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sent, _, err := env.Server.Mailer().RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if sent > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no mail was queued")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBrowserForgotPasswordThroughTheDevMailbox(t *testing.T) {
	env := browserEnv(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "normal@demo.example"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a[href='/forgot']")),
		chromedp.Click(chromedp.CSS("a[href='/forgot']")),
		chromedp.WaitVisible(chromedp.CSS("form[action='/forgot'] #email")),
	); err != nil {
		t.Fatalf("to /forgot: %v", err)
	}
	browsertest.Screenshot(t, ctx, "forgot")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), "normal@demo.example"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitNotPresent(chromedp.CSS("form[action='/forgot']")),
	); err != nil {
		t.Fatalf("submit /forgot: %v", err)
	}
	deliverMail(t, env)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/dev/mail/"),
		chromedp.Click(chromedp.CSS("td a")),
		chromedp.WaitVisible(chromedp.CSS("pre a")),
	); err != nil {
		t.Fatalf("dev mailbox: %v", err)
	}
	browsertest.Screenshot(t, ctx, "dev-mailbox")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("pre a")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	); err != nil {
		t.Fatalf("open the reset link: %v", err)
	}
	browsertest.Screenshot(t, ctx, "reset")
	const newPassword = "a brand new harbour lantern"
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), newPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitNotPresent(chromedp.CSS("#confirm")),
	); err != nil {
		t.Fatalf("set the new password: %v", err)
	}
	// Sign in with the new password.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "normal@demo.example"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a[href='/account']")),
	); err != nil {
		t.Fatalf("sign in with the new password: %v\n%s", err, browsertest.Text(t, ctx))
	}
}

func TestBrowserSignOutEverywhereElse(t *testing.T) {
	env := browserEnv(t)
	// Another device: a session made over HTTP with a cookie jar.
	other := newBrowser(t, env)
	resp := other.get(env.URL + "/")
	id := resp.Request.URL.Query().Get("authRequestID")
	resp.Body.Close()
	other.post(env.URL+"/login/email", url.Values{"authRequestID": {id}, "email": {"admin@demo.example"}}).Body.Close()
	other.post(env.URL+"/login/password", url.Values{"authRequestID": {id}, "password": {"hubid-demo-password"}}).Body.Close()
	if r := other.get(env.URL + "/account"); r.Request.URL.Path != "/account" {
		t.Fatalf("other device not signed in: %s", r.Request.URL)
	}

	ctx := signInInBrowser(t, env, false)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/account"),
		chromedp.WaitVisible(chromedp.CSS("form[action='/account/sessions/end-others'] button")),
	); err != nil {
		t.Fatalf("account page: %v\n%s", err, browsertest.Text(t, ctx))
	}
	browsertest.Screenshot(t, ctx, "account")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("form[action='/account/sessions/end-others'] button")),
		chromedp.WaitNotPresent(chromedp.CSS("form[action='/account/sessions/end-others']")),
	); err != nil {
		t.Fatalf("sign out everywhere else: %v", err)
	}
	// The other device is signed out; this one is not.
	r := other.get(env.URL + "/account")
	r.Body.Close()
	if r.Request.URL.Path == "/account" {
		t.Fatal("the other device is still signed in")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/account/history"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatalf("this device was signed out too: %v", err)
	}
	browsertest.Screenshot(t, ctx, "history")
}
