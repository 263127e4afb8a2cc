package mail

import (
	"html/template"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// Every kind composes in Japanese then English in one mail: both subjects,
// both languages' lines with each language's own data, Japanese first,
// in the text and in the HTML (one lang-tagged box per language).
func TestComposeBilingualEveryKind(t *testing.T) {
	b := newBundle(t)
	c := newComposer(t)
	langs := []language.Tag{language.Japanese, language.English}
	for _, tc := range composeCases {
		t.Run(tc.kind, func(t *testing.T) {
			var asked []string
			m, err := c.ComposeBilingual(tc.kind, langs, "taro@example.com", func(lang string) any {
				asked = append(asked, lang)
				return tc.data
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(asked, ",") != "ja,en" {
				t.Fatalf("data asked for %v", asked)
			}
			ja, en := b.Printer(language.Japanese), b.Printer(language.English)
			subj := "mail." + tc.kind + ".subject"
			if want := ja.T(subj) + " / " + en.T(subj); m.Subject != want || m.To != "taro@example.com" {
				t.Errorf("subject, to = %q, %q; want %q", m.Subject, m.To, want)
			}
			for _, ln := range tc.lines {
				wj, we := ja.T(ln.key, ln.args...), en.T(ln.key, ln.args...)
				for _, body := range []string{m.Text, m.HTML} {
					if body == m.HTML {
						wj, we = template.HTMLEscapeString(wj), template.HTMLEscapeString(we)
					}
					i, k := strings.Index(body, wj), strings.LastIndex(body, we)
					if i < 0 || k < 0 || (wj != we && i > k) {
						t.Errorf("%s: Japanese %q at %d, English %q at %d:\n%s", ln.key, wj, i, we, k, body)
					}
				}
			}
			if !strings.Contains(m.HTML, `<html lang="ja">`) || !strings.Contains(m.HTML, `<div lang="ja">`) || !strings.Contains(m.HTML, `<div lang="en">`) {
				t.Errorf("HTML parts not tagged:\n%s", m.HTML)
			}
			for _, body := range []string{m.Text, m.HTML} {
				if strings.Contains(body, "%!") || strings.Contains(body, "<no value>") {
					t.Errorf("a formatting error leaked:\n%s", body)
				}
			}
		})
	}
}

func TestComposeBilingualRejectsBadInput(t *testing.T) {
	c := newComposer(t)
	good := func(string) any { return NameData{Name: "Taro"} }
	langs := []language.Tag{language.Japanese, language.English}
	if _, err := c.ComposeBilingual("nope", langs, "a@example.com", good); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := c.ComposeBilingual(KindPasswordChanged, nil, "a@example.com", good); err == nil {
		t.Error("no language accepted")
	}
	if _, err := c.ComposeBilingual(KindPasswordChanged, langs, "not an address", good); err == nil {
		t.Error("bad address accepted")
	}
	bad := func(lang string) any {
		if lang == "en" {
			return LegacyReminderData{LoginID: "X"}
		}
		return LegacyReminderData{LoginID: "X", Service: "S", Ends: "e", Link: link}
	}
	if _, err := c.ComposeBilingual(KindLegacyReminder, langs, "a@example.com", bad); err == nil {
		t.Error("the English part's bad data accepted")
	}
}
