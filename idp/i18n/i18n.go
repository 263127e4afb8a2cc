// Package i18n translates hubid's pages and mail into English and
// Japanese with golang.org/x/text: language negotiation with a matcher and
// message catalogs built from messages.go. Templates call {{t "key"}}; no
// user-visible string is written in a template.
package i18n

import (
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Supported languages, the first being the fallback.
var Supported = []language.Tag{language.English, language.Japanese}

// Bundle holds the catalog and the matcher; it is immutable and safe for
// concurrent use.
type Bundle struct {
	cat     *catalog.Builder
	matcher language.Matcher
	keys    map[string]bool
}

// Msg is one message in both languages.
type Msg struct{ EN, JA string }

// Table is a package's messages by key; each page package owns its table.
type Table map[string]Msg

// New builds the bundle from the shared messages and the packages'
// tables; it fails when a message lacks a translation, a key is defined
// twice or the Japanese breaks the Glossary, so a missing string or a
// second name for one thing is caught at start-up and in tests rather
// than shown.
func New(tables ...Table) (*Bundle, error) {
	b := &Bundle{cat: catalog.NewBuilder(catalog.Fallback(language.English)), matcher: language.NewMatcher(Supported), keys: map[string]bool{}}
	all := Table{}
	for _, t := range append([]Table{messages}, tables...) {
		for k, m := range t {
			if _, dup := all[k]; dup {
				return nil, fmt.Errorf("i18n: message %q is defined twice", k)
			}
			all[k] = m
		}
	}
	if err := checkGlossary(all); err != nil {
		return nil, err
	}
	for key, m := range all {
		if m.EN == "" || m.JA == "" {
			return nil, fmt.Errorf("i18n: message %q lacks a translation", key)
		}
		if err := b.cat.SetString(language.English, key, m.EN); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", key, err)
		}
		if err := b.cat.SetString(language.Japanese, key, m.JA); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", key, err)
		}
		b.keys[key] = true
	}
	return b, nil
}

// Has reports whether key is a known message.
func (b *Bundle) Has(key string) bool { return b.keys[key] }

// Match picks the supported language for the preferences, in order: each
// argument is a language list ("ja", "ja-JP,en;q=0.8", "en ja"); the first
// argument that names a supported language wins.
func (b *Bundle) Match(prefs ...string) language.Tag {
	for _, p := range prefs {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(strings.ReplaceAll(p, " ", ","))
		if err != nil || len(tags) == 0 {
			continue
		}
		tag, _, conf := b.matcher.Match(tags...)
		if conf != language.No {
			base, _ := tag.Base()
			return language.Make(base.String())
		}
	}
	return language.English
}

// FromRequest negotiates from the explicit choice (cookie), then the given
// preferences (account setting, ui_locales), then Accept-Language.
func (b *Bundle) FromRequest(r *http.Request, prefs ...string) language.Tag {
	if c, err := r.Cookie(LangCookie); err == nil {
		prefs = append([]string{c.Value}, prefs...)
	}
	return b.Match(append(prefs, r.Header.Get("Accept-Language"))...)
}

// ForPerson is the language of a page once the person is known (and of
// their mail, which has no cookie): the switcher's choice, then the
// account's language, then the other preferences (the client's
// ui_locales), then Accept-Language. Before the person is known pages use
// FromRequest: the switcher, ui_locales and the browser decide.
func (b *Bundle) ForPerson(r *http.Request, accountLocale string, prefs ...string) language.Tag {
	return b.FromRequest(r, append([]string{accountLocale}, prefs...)...)
}

// LangCookie holds the language chosen with the switcher.
const LangCookie = "hubid_lang"

// Printer translates into one language.
type Printer struct {
	Tag language.Tag
	p   *message.Printer
}

// Printer returns a printer for tag.
func (b *Bundle) Printer(tag language.Tag) *Printer {
	return &Printer{Tag: tag, p: message.NewPrinter(tag, message.Catalog(b.cat))}
}

// T translates key with fmt-style arguments.
func (p *Printer) T(key string, args ...any) string { return p.p.Sprintf(key, args...) }

// Lang is the BCP 47 code for the html lang attribute.
func (p *Printer) Lang() string { return p.Tag.String() }
