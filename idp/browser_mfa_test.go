package idp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	_ "image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp/totp"

	"github.com/customerhub/hubid/internal/browsertest"
)

// TestBrowserTwoStepSetupAndSignIn: in Chromium, set two-step
// verification up from Account Settings by reading the QR code on the
// page as a phone would (decoded here), then sign in with the second step.
func TestBrowserTwoStepSetupAndSignIn(t *testing.T) {
	twoStepInBrowser(t, "", twoStepTexts{
		activate: "MFA Confirmation and Activation", state: "On since", left: "10 recovery codes left",
		step: "Two-step verification",
	})
}

// TestBrowserTwoStepSetupAndSignInJapanese: the same in Japanese, as the
// customer's people see it (screenshots named -ja): every page of the
// setup and of the sign-in step is in Japanese.
func TestBrowserTwoStepSetupAndSignInJapanese(t *testing.T) {
	browsertest.RequireJapaneseFonts(t)
	twoStepInBrowser(t, "ja", twoStepTexts{
		activate: "MFAの確認と有効化", state: "有効（設定日時）", left: "リカバリーコード残り 10 個",
		step: "2段階認証",
	})
}

// twoStepTexts are what the pages say in the language under test: the
// activation button, the state and the codes left after activation, and
// the sign-in step's title.
type twoStepTexts struct{ activate, state, left, step string }

// twoStepInBrowser sets two-step verification up and signs in with it,
// the pages in lang ("" = English).
func twoStepInBrowser(t *testing.T, lang string, want twoStepTexts) {
	env := browserEnv(t)
	ctx := signInInBrowserIn(t, env, false, lang)
	shot := func(ctx context.Context, name string) { browsertest.Screenshot(t, ctx, name+langSuffix(lang)) }
	inLang := func(ctx context.Context, page string) {
		t.Helper()
		if lang == "" {
			return
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("html[lang="+lang+"]"))); err != nil {
			t.Fatalf("%s not in %s: %v", page, lang, err)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/account"),
		chromedp.WaitVisible(chromedp.CSS("#mfa-link")),
	); err != nil {
		t.Fatalf("account settings: %v", err)
	}
	inLang(ctx, "account settings")
	shot(ctx, "account-mfa-off")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#mfa-link")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-setup")),
		chromedp.Click(chromedp.CSS("#mfa-setup")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-qr")),
	); err != nil {
		t.Fatalf("to setup: %v\npage: %s", err, browsertest.Text(t, ctx))
	}
	inLang(ctx, "setup")
	shot(ctx, "mfa-setup")
	attrs, err := chromedp.Run(ctx, chromedp.Attributes(chromedp.CSS("#mfa-qr")))
	if err != nil {
		t.Fatal(err)
	}
	src, ok := strings.CutPrefix(attrs["src"], "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR code is not an inline PNG: %.60s", attrs["src"])
	}
	secret := decodeQRSecret(t, src)
	keyText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#mfa-key")))
	if err != nil || strings.ReplaceAll(keyText, " ", "") != secret {
		t.Fatalf("the key shown %q is not the QR code's secret %q (%v)", keyText, secret, err)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS("#mfa-verify")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-activate")),
	); err != nil {
		t.Fatalf("verify: %v\npage: %s", err, browsertest.Text(t, ctx))
	}
	if txt := browsertest.Text(t, ctx); !strings.Contains(txt, want.activate) {
		t.Fatalf("no %q button after the code:\n%s", want.activate, txt)
	}
	shot(ctx, "mfa-verified")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#mfa-activate")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-codes")),
	); err != nil {
		t.Fatalf("activate: %v\npage: %s", err, browsertest.Text(t, ctx))
	}
	inLang(ctx, "recovery codes")
	shot(ctx, "mfa-codes")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#mfa-done")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-state")),
	); err != nil {
		t.Fatalf("back to the MFA page: %v", err)
	}
	if txt := browsertest.Text(t, ctx); !strings.Contains(txt, want.state) || !strings.Contains(txt, want.left) {
		t.Fatalf("state after activation (want %q, %q): %s", want.state, want.left, txt)
	}
	shot(ctx, "mfa-on")

	// A new browser signs in: email, password, then the code.
	ctx2 := browsertest.New(t)
	if err := chromedp.Do(ctx2,
		chromedp.Navigate(env.URL+langQuery(lang)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "admin@demo.example"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), "hubid-demo-password"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("input[autocomplete=one-time-code]")),
	); err != nil {
		t.Fatalf("to the second step: %v\npage: %s", err, browsertest.Text(t, ctx2))
	}
	inLang(ctx2, "sign-in step")
	if txt := browsertest.Text(t, ctx2); !strings.Contains(txt, want.step) {
		t.Fatalf("second step page lacks %q:\n%s", want.step, txt)
	}
	shot(ctx2, "signin-mfa")
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err := chromedp.Do(ctx2,
		chromedp.SendKeys(chromedp.CSS("#code"), next),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a[href='/account']")),
	); err != nil {
		t.Fatalf("second step: %v\npage: %s", err, browsertest.Text(t, ctx2))
	}
	inLang(ctx2, "home")
}

// decodeQRSecret reads the QR code image and returns the secret of the
// otpauth:// URL it carries, checking the parameters apps rely on.
func decodeQRSecret(t *testing.T, b64 string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR code: %v", err)
	}
	u, err := url.Parse(res.GetText())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Customer Hub:admin@demo.example" || q.Get("issuer") != "Customer Hub" ||
		q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("QR code carries %s", res.GetText())
	}
	return q.Get("secret")
}
