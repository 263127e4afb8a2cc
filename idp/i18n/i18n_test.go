package i18n

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

func TestNegotiation(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		prefs []string
		want  language.Tag
	}{
		{[]string{"ja-JP,en;q=0.5"}, language.Japanese},
		{[]string{"fr-FR,de"}, language.English},
		{[]string{"", "ja en"}, language.Japanese}, // ui_locales is space-separated
		{[]string{"en", "ja"}, language.English},   // the first preference wins
		{[]string{"garbage;;;", "ja"}, language.Japanese},
	}
	for _, c := range cases {
		if got := b.Match(c.prefs...); got != c.want {
			t.Errorf("%q: got %s, want %s", c.prefs, got, c.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Language", "en-US")
	r.AddCookie(&http.Cookie{Name: LangCookie, Value: "ja"})
	if got := b.FromRequest(r, "en"); got != language.Japanese {
		t.Errorf("the switcher cookie must win, got %s", got)
	}
}

func TestTranslations(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ja := b.Printer(language.Japanese)
	if got := ja.T("home.signedin", "Aiko"); got != "Aiko としてサインイン中" {
		t.Fatalf("ja: %q", got)
	}
	if got := b.Printer(language.English).T("error.title"); got != "Something went wrong" {
		t.Fatalf("en: %q", got)
	}
	for k, m := range messages {
		if m.EN == m.JA && k != "lang.en" && k != "lang.ja" {
			t.Errorf("%s: Japanese is a copy of English", k)
		}
	}
	if _, err := New(Table{"x.y": {EN: "only English"}}); err == nil {
		t.Error("a missing translation must fail")
	}
	if _, err := New(Table{"error.title": {EN: "a", JA: "b"}}); err == nil {
		t.Error("a duplicate key must fail")
	}
}

func TestGlossary(t *testing.T) {
	for ja, want := range map[string]int{
		"この端末でサインアウト":          0,
		"このデバイスでサインアウト":        1,
		"ログイン ID でサインイン":       0, // the exception is not a sign-in verb
		"ログインしてください":           1,
		"ログインIDを入力":            2, // the spacing, and the bare verb
		"2 段階認証と2段階認証":         1,
		"ブラウザに貼り付け":            0,
		"ブラウザーに貼り付け":           1,
		"ユーザーとユーザ":             1,
		"アカウント設定 → 多要素認証 → 設定": 0,
	} {
		if got := GlossaryProblems(ja); len(got) != want {
			t.Errorf("%s: %v, want %d problems", ja, got, want)
		}
	}
	if _, err := New(Table{"x.device": {EN: "device", JA: "デバイス"}}); err == nil || !strings.Contains(err.Error(), "x.device") {
		t.Errorf("a bundle with a word outside the glossary must fail naming the key: %v", err)
	}
	for k, m := range messages {
		if p := GlossaryProblems(m.JA); len(p) > 0 {
			t.Errorf("%s: %v", k, p)
		}
	}
}
