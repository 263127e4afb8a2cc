package account

import (
	"regexp"
	"strings"
	"testing"

	"github.com/customerhub/hubid/idp/web"
)

func TestTemplatesHaveNoHardCodedText(t *testing.T) {
	found, err := web.HardCodedText(Templates)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("hard-coded text: %s", f)
	}
}

func TestEveryGroupedKindHasAMessage(t *testing.T) {
	seen := map[string]string{}
	for _, g := range KindGroups {
		if _, ok := Messages[g.Key]; !ok {
			t.Errorf("group %s: no message %s", g.Value, g.Key)
		}
		for _, k := range g.Kinds {
			_, inKinds := KindMessages["history.kind."+k]
			if _, ok := Messages["history.kind."+k]; !ok && !inKinds {
				t.Errorf("kind %s: no message history.kind.%s", k, k)
			}
			if other, dup := seen[k]; dup {
				t.Errorf("kind %s is in groups %s and %s", k, other, g.Value)
			}
			seen[k] = g.Value
		}
	}
	for _, k := range []string{KindProfileUpdated, KindPasswordChanged, KindPasswordChangeFailed, KindEmailChangeRequested,
		KindEmailChangeFailed, KindSessionEnded, KindSessionsEnded, KindConsentRevoked} {
		if seen[k] == "" {
			t.Errorf("kind %s, which this package writes, is in no group", k)
		}
	}
	for _, key := range doneKeys {
		if _, ok := Messages[key]; !ok && MFAMessages[key].EN == "" {
			t.Errorf("flash %s has no message", key)
		}
	}
}

// untranslated finds message keys or formatting faults that reached a page.
var untranslated = regexp.MustCompile(`\b(?:account|history|pwpolicy|lang|role)\.[a-z][a-z._]*|%!|MISSING`)

// TestBothLanguagesRender renders every page in English and Japanese and
// looks for keys shown instead of text. The account's language wins over
// the browser's; without one, Accept-Language decides.
func TestBothLanguagesRender(t *testing.T) {
	e := newEnv(t)
	e.addClient("ships", "NK-SHIPS", "https://ships.example/")
	en := e.addUser("en@example.com", "Emma", "")
	ja := e.addUser("ja@example.com", "Aiko", "ja")
	u := e.addUser("browser@example.com", "Ken", "")
	stranger := e.addUser("x@example.com", "X", "")
	seedHistory(t, e, en, stranger)
	seedHistory(t, e, ja, stranger)
	bEN := e.signIn(en, uaChromeWindows, "198.51.100.1", "ships")
	bJA := e.signIn(ja, uaChromeWindows, "198.51.100.2", "ships")
	bJA.lang = "en-US,en;q=0.9" // the account setting wins
	bBrowser := e.signIn(u, uaChromeWindows, "198.51.100.3")
	bBrowser.lang = "ja-JP,ja;q=0.9,en;q=0.5"
	pages := map[string][2]string{ // path: English, Japanese marker
		"/account":          {"<h1>Account settings</h1>", "<h1>アカウント設定</h1>"},
		"/account/password": {"<h1>Change password</h1>", "<h1>パスワードの変更</h1>"},
		"/account/email":    {"<h1>Change email address</h1>", "<h1>メールアドレスの変更</h1>"},
		"/account/history":  {"<h1>Usage history</h1>", "<h1>利用履歴</h1>"},
	}
	for path, want := range pages {
		for _, c := range []struct {
			b          *browser
			lang, text string
		}{{bEN, "en", want[0]}, {bJA, "ja", want[1]}, {bBrowser, "ja", want[1]}} {
			page := c.b.page(path)
			contains(t, page, `<html lang="`+c.lang+`">`, c.text)
			if m := untranslated.FindAllString(stripAttrs(page), -1); len(m) > 0 {
				t.Errorf("%s (%s): untranslated %v", path, c.lang, m)
			}
		}
	}
	for key := range doneKeys {
		for _, b := range []*browser{bEN, bJA} {
			if m := untranslated.FindAllString(stripAttrs(b.page("/account?done="+key)), -1); len(m) > 0 {
				t.Errorf("done=%s: untranslated %v", key, m)
			}
		}
	}
	// A ?done= outside the whitelist shows nothing.
	lacks(t, bEN.page("/account?done=account.title"), `role="status"`)
}

var attrRe = regexp.MustCompile(`(?:href|action|id|for|name|class|aria-labelledby|aria-describedby)="[^"]*"`)

// stripAttrs drops attributes whose values are paths and IDs, not text.
func stripAttrs(page string) string {
	return attrRe.ReplaceAllString(strings.ReplaceAll(page, "\n", " "), "")
}
