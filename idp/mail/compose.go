package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strings"
	texttemplate "text/template"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/i18n"
)

// Kinds of mail; each has a text and an HTML template in templates/ and
// its strings under "mail.<kind>." in Messages.
const (
	// KindPasswordReset carries the single-use reset link (LinkData).
	KindPasswordReset = "password_reset"
	// KindPasswordResetDone tells that the password was reset and
	// two-step verification turned off (NameData).
	KindPasswordResetDone = "password_reset_done"
	// KindVerifyEmail carries the link that confirms an address (LinkData).
	KindVerifyEmail = "verify_email"
	// KindEmailChangeNotice goes to the OLD address when a change to
	// NewEmail is requested (EmailChangeData).
	KindEmailChangeNotice = "email_change_notice"
	// KindPasswordChanged tells that the password was changed (NameData).
	KindPasswordChanged = "password_changed"
	// KindMFARemoved tells that two-step verification was removed from
	// the account (forgot password, an administrator or an operator):
	// NameData.
	KindMFARemoved = "mfa_removed"
)

// Kinds lists every kind of mail.
var Kinds = []string{KindPasswordReset, KindPasswordResetDone, KindVerifyEmail, KindEmailChangeNotice, KindPasswordChanged,
	KindOrgInvitation, KindOrgApplicationApproved, KindOrgApplicationRejected, KindMFARemoved, KindLegacyRegister, KindLegacyReminder}

// LinkData is the data of KindPasswordReset and KindVerifyEmail.
type LinkData struct {
	Name           string // the person's name; "" for a greeting without one
	Link           string // absolute http(s) URL
	ExpiresMinutes int
}

// NameData is the data of KindPasswordResetDone and KindPasswordChanged.
type NameData struct{ Name string }

// EmailChangeData is the data of KindEmailChangeNotice.
type EmailChangeData struct {
	Name     string
	NewEmail string
}

// Templates are the mail templates: layout.txt and layout.html, and per
// kind <kind>.txt and <kind>.html, all under templates/.
//
//go:embed templates/*.txt templates/*.html
var Templates embed.FS

// kindTemplates are one kind's parsed templates.
type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// Composer renders mail from the embedded templates; it is immutable and
// safe for concurrent use.
type Composer struct {
	bundle   *i18n.Bundle
	helpdesk string
	kinds    map[string]kindTemplates
}

// view is what every template receives.
type view struct {
	P        *i18n.Printer
	Subject  string
	Helpdesk string // "" = none configured
	Data     any
}

// keyRe finds message keys in templates.
var keyRe = regexp.MustCompile(`\.P\.T "([^"]+)"`)

// NewComposer parses every kind's templates once, at start-up. bundle must
// hold Messages (i18n.New(..., mail.Messages)); helpdesk is the contact
// printed in mail ("" = none).
func NewComposer(bundle *i18n.Bundle, helpdesk string) (*Composer, error) {
	if bundle == nil {
		return nil, errors.New("mail: no i18n bundle")
	}
	c := &Composer{bundle: bundle, helpdesk: helpdesk, kinds: map[string]kindTemplates{}}
	var missing []string
	for _, kind := range Kinds {
		text, err := texttemplate.New(kind).Option("missingkey=error").ParseFS(Templates, "templates/layout.txt", "templates/"+kind+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: %s text template: %w", kind, err)
		}
		html, err := htmltemplate.New(kind).Option("missingkey=error").ParseFS(Templates, "templates/layout.html", "templates/"+kind+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: %s HTML template: %w", kind, err)
		}
		c.kinds[kind] = kindTemplates{text: text, html: html}
		for _, name := range []string{"layout.txt", kind + ".txt", "layout.html", kind + ".html"} {
			src, err := Templates.ReadFile("templates/" + name)
			if err != nil {
				return nil, fmt.Errorf("mail: %w", err)
			}
			for _, m := range keyRe.FindAllStringSubmatch(string(src), -1) {
				if !bundle.Has(m[1]) {
					missing = append(missing, m[1])
				}
			}
		}
		if !bundle.Has(subjectKey(kind)) {
			missing = append(missing, subjectKey(kind))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("mail: the bundle lacks %s (build it with mail.Messages)", strings.Join(missing, ", "))
	}
	return c, nil
}

func subjectKey(kind string) string { return "mail." + kind + ".subject" }

// validator is data that can check itself.
type validator interface{ validate() error }

func (d LinkData) validate() error {
	u, err := url.Parse(d.Link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("link %q is not an absolute http(s) URL", d.Link)
	}
	if d.ExpiresMinutes <= 0 {
		return fmt.Errorf("expires in %d minutes", d.ExpiresMinutes)
	}
	return nil
}

func (d EmailChangeData) validate() error {
	if d.NewEmail == "" {
		return errors.New("no new email")
	}
	return nil
}

// Compose renders a mail of kind in lang (matched to a supported
// language) for the address to. data is the kind's data type (LinkData,
// NameData, EmailChangeData) or a map with the same keys.
func (c *Composer) Compose(kind string, lang language.Tag, to string, data any) (Message, error) {
	t, ok := c.kinds[kind]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown kind %q", kind)
	}
	if v, ok := data.(validator); ok {
		if err := v.validate(); err != nil {
			return Message{}, fmt.Errorf("mail: %s: %w", kind, err)
		}
	}
	if _, err := parseAddress(to); err != nil {
		return Message{}, fmt.Errorf("mail: %s: %w", kind, err)
	}
	p := c.bundle.Printer(c.bundle.Match(lang.String()))
	v := view{P: p, Subject: p.T(subjectKey(kind)), Helpdesk: c.helpdesk, Data: data}
	return t.render(kind, "layout", to, v.Subject, v)
}

// render executes the text and HTML template name (of the layouts) with v.
func (t kindTemplates) render(kind, name, to, subject string, v any) (Message, error) {
	var text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&text, name, v); err != nil {
		return Message{}, fmt.Errorf("mail: %s text: %w", kind, err)
	}
	if err := t.html.ExecuteTemplate(&html, name, v); err != nil {
		return Message{}, fmt.Errorf("mail: %s HTML: %w", kind, err)
	}
	return Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}, nil
}
