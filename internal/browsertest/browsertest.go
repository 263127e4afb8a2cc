// Package browsertest drives Debian's Chromium with chromedp for tests of
// hubid's pages. Without Chromium the tests skip, except under CI=true,
// where .ci/run installs it and its absence fails the run.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/customerhub/hubid/internal/testenv"
)

// Path finds the browser: $HUBID_CHROMIUM, /usr/bin/chromium, or chromium
// on PATH.
func Path() string {
	if p := os.Getenv("HUBID_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// New starts a headless Chromium with a fresh profile and returns a
// browser context (one tab) that ends with the test.
func New(t testing.TB) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		if testenv.InCI() {
			t.Fatal("Chromium is required under CI=true (apt-get install chromium)")
		}
		t.Skip("Chromium not installed; skipping browser test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1100, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// Screenshot saves a full-page PNG when dir is set (make screenshots sets
// HUBID_SCREENSHOTS=docs/screenshots).
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("HUBID_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Cookies returns the browser's cookies for the current page.
func Cookies(t testing.TB, ctx context.Context) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
	})
	if err != nil {
		t.Fatalf("cookies: %v", err)
	}
	return res.Cookies
}

// Text returns the visible text of the page body.
func Text(t testing.TB, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("page text: %v", err)
	}
	return s
}

// RequireJapaneseFonts makes sure a font with Japanese glyphs is
// installed (fonts-noto-cjk), without which Chromium draws Japanese text
// as empty boxes: the pages' text is still right, but screenshots are
// useless. Under CI=true or when screenshots are taken a missing font
// fails the test; otherwise it is logged and the test goes on.
func RequireJapaneseFonts(t testing.TB) {
	t.Helper()
	out, err := exec.Command("fc-list", ":lang=ja", "family").Output()
	if err == nil && len(bytes.TrimSpace(out)) > 0 {
		return
	}
	msg := "no font with Japanese glyphs (apt-get install fonts-noto-cjk)"
	if testenv.InCI() || os.Getenv("HUBID_SCREENSHOTS") != "" {
		t.Fatal(msg)
	}
	t.Log(msg + ": Japanese screenshots would show empty boxes")
}
