package idp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/customerhub/hubid/internal/browsertest"
)

// evalBool evaluates a JavaScript condition on the page.
func evalBool(t *testing.T, ctx context.Context, js string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func TestBrowserAvatarMenuOpensWithTheKeyboard(t *testing.T) {
	env := browserEnv(t)
	ctx := signInInBrowser(t, env, false)
	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("nav.avatar summary"))); err != nil {
		t.Fatalf("account page: %v", err)
	}
	if evalBool(t, ctx, `document.querySelector("nav.avatar details").open`) {
		t.Fatal("the menu starts open")
	}
	// Tab to the menu as a keyboard user would.
	reached := false
	for range 60 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if evalBool(t, ctx, `document.activeElement.matches("nav.avatar summary")`) {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatal("Tab never reaches the avatar menu")
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("nav.avatar a[href='/account/history']"))); err != nil {
		t.Fatalf("Enter does not open the menu: %v", err)
	}
	browsertest.Screenshot(t, ctx, "menu")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("nav.avatar .menu-panel")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"admin@demo.example", "Account settings", "Multifactor Authentication", "Usage history", "Organization console", "日本語", "Sign out"} {
		if !strings.Contains(text, want) {
			t.Errorf("open menu lacks %q:\n%s", want, text)
		}
	}
	// The next Tab is the menu's first link; Escape is not needed: the
	// links work from the keyboard.
	for !evalBool(t, ctx, `document.activeElement.matches("nav.avatar a[href='/account/history']")`) {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if !evalBool(t, ctx, `document.activeElement.closest("nav.avatar") !== null`) {
			t.Fatal("Tab left the menu before reaching usage history")
		}
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("form.filters"))); err != nil {
		t.Fatalf("usage history from the menu: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/account/history") {
		t.Fatalf("menu led to %s", loc)
	}
	// In Japanese, from the menu's language links.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("nav.avatar summary")),
		chromedp.Click(chromedp.CSS("nav.avatar a[hreflang=ja]")),
		chromedp.WaitVisible(chromedp.CSS("html[lang=ja] nav.avatar summary")),
		chromedp.Click(chromedp.CSS("nav.avatar summary")),
		chromedp.WaitVisible(chromedp.CSS("nav.avatar a[href='/account/mfa']")),
	); err != nil {
		t.Fatalf("menu in Japanese: %v", err)
	}
	browsertest.Screenshot(t, ctx, "menu-ja")
	text, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("nav.avatar .menu-panel")))
	for _, want := range []string{"アカウント設定", "多要素認証", "利用履歴", "組織管理", "サインアウト"} {
		if !strings.Contains(text, want) {
			t.Errorf("Japanese menu lacks %q:\n%s", want, text)
		}
	}
}

func TestBrowserErrorPagesInBothLanguages(t *testing.T) {
	env := browserEnv(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/no/such/page"), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "notfound")
	h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1")))
	if h1 != "Page not found" || !evalBool(t, ctx, `document.documentElement.lang === "en"`) {
		t.Errorf("404 page: %q", h1)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("header a[lang=ja]")), chromedp.WaitVisible(chromedp.CSS("html[lang=ja] main h1"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "notfound-ja")
	if h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1"))); h1 != "ページが見つかりません" {
		t.Errorf("Japanese 404 page: %q", h1)
	}
	// The way on leads to the hub (its sign-in, signed out).
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("main a[href='/']")), chromedp.WaitVisible(chromedp.CSS("#email"))); err != nil {
		t.Fatalf("404 page's link: %v", err)
	}
}

// TestBrowserPhoneWidth opens the hub's pages 360 px wide: nothing may be
// wider than the screen (make screenshots keeps them as *-phone.png).
func TestBrowserPhoneWidth(t *testing.T) {
	env := browserEnv(t)
	ctx := signInInBrowser(t, env, false)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	for _, pg := range []struct{ path, shot string }{
		{"/", "home-phone"}, {"/account", "account-phone"}, {"/account/history", "history-phone"},
		{"/account/mfa", "mfa-phone"}, {"/console/", "console-phone"}, {"/no/such/page", "notfound-phone"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+pg.path), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			t.Fatalf("%s: %v", pg.path, err)
		}
		browsertest.Screenshot(t, ctx, pg.shot)
		if !evalBool(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`) {
			w, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			t.Errorf("%s is %d px wide at 360 px", pg.path, w)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/"), chromedp.Click(chromedp.CSS("nav.avatar summary")),
		chromedp.WaitVisible(chromedp.CSS("nav.avatar .menu-panel"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "menu-phone")
	if !evalBool(t, ctx, `(() => { const r = document.querySelector("nav.avatar .menu-panel").getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 })()`) {
		t.Error("the open menu does not fit a 360 px screen")
	}
}
