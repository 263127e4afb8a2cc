package mail

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// bilingualView is what the layouts' "bilingual" template receives: one
// view a language, in order.
type bilingualView struct {
	Subject string
	Parts   []view
}

// ComposeBilingual renders one mail of kind that says the same thing in
// each of langs, in that order (the first language's part on top): the
// subjects joined by " / ", the text parts separated by a rule, the HTML
// parts one box each. It is for addresses whose language is not known
// (an imported contact address). data gives each language's data (dates,
// for instance, are written for the reader of that language).
func (c *Composer) ComposeBilingual(kind string, langs []language.Tag, to string, data func(lang string) any) (Message, error) {
	t, ok := c.kinds[kind]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown kind %q", kind)
	}
	if len(langs) == 0 {
		return Message{}, errors.New("mail: no language")
	}
	if _, err := parseAddress(to); err != nil {
		return Message{}, fmt.Errorf("mail: %s: %w", kind, err)
	}
	var v bilingualView
	subjects := make([]string, 0, len(langs))
	for _, l := range langs {
		p := c.bundle.Printer(c.bundle.Match(l.String()))
		d := data(p.Lang())
		if vd, ok := d.(validator); ok {
			if err := vd.validate(); err != nil {
				return Message{}, fmt.Errorf("mail: %s: %w", kind, err)
			}
		}
		part := view{P: p, Subject: p.T(subjectKey(kind)), Helpdesk: c.helpdesk, Data: d}
		v.Parts = append(v.Parts, part)
		subjects = append(subjects, part.Subject)
	}
	v.Subject = strings.Join(subjects, " / ")
	return t.render(kind, "bilingual", to, v.Subject, v)
}
