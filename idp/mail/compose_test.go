package mail

import (
	"html/template"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/web"
)

const link = "https://id.example.test/reset?token=abc&lang=ja"

// line is a message key with its arguments, as a template prints it.
type line struct {
	key  string
	args []any
}

func l(key string, args ...any) line { return line{key, args} }

var composeCases = []struct {
	kind  string
	data  any
	lines []line // in both bodies
	link  bool
}{
	{KindPasswordReset, LinkData{Name: "Taro", Link: link, ExpiresMinutes: 30}, []line{
		l("mail.greeting", "Taro"), l("mail.password_reset.intro"), l("mail.link.expires", 30),
		l("mail.password_reset.mfa"), l("mail.password_reset.keep"), l("mail.footer.helpdesk", helpdesk),
	}, true},
	{KindPasswordResetDone, NameData{Name: "Taro"}, []line{
		l("mail.greeting", "Taro"), l("mail.password_reset_done.body"), l("mail.password_reset_done.mfa"),
		l("mail.notyou.contact", helpdesk),
	}, false},
	{KindVerifyEmail, LinkData{Link: link, ExpiresMinutes: 1440}, []line{
		l("mail.greeting.anon"), l("mail.verify_email.intro"), l("mail.link.expires", 1440), l("mail.ignore"),
	}, true},
	{KindEmailChangeNotice, EmailChangeData{Name: "Taro", NewEmail: "new@example.com"}, []line{
		l("mail.greeting", "Taro"), l("mail.email_change_notice.body", "new@example.com"),
		l("mail.email_change_notice.after"), l("mail.notyou.contact", helpdesk),
	}, false},
	{KindPasswordChanged, map[string]any{"Name": "Taro"}, []line{
		l("mail.greeting", "Taro"), l("mail.password_changed.body"), l("mail.notyou.contact", helpdesk),
	}, false},
	{KindOrgInvitation, InvitationData{OrgName: "Alpha", InviterName: "Hanako", RoleKey: RoleKey("visitor"), Link: link, ExpiresDays: 7}, []line{
		l("mail.greeting.anon"), l("mail.org_invitation.intro.by", "Hanako", "Alpha"), l("mail.org_invitation.expires", 7),
		l("mail.org_invitation.account"), l("mail.ignore"),
	}, true},
	{KindOrgApplicationApproved, ApplicationData{Name: "Taro", OrgName: "Alpha", ServiceName: "NK-PASS"}, []line{
		l("mail.greeting", "Taro"), l("mail.org_application_approved.body", "Alpha", "NK-PASS"), l("mail.org_application_approved.next"),
	}, false},
	{KindOrgApplicationRejected, ApplicationData{Name: "Taro", OrgName: "Alpha", ServiceName: "NK-PASS", Reason: "no <contract>"}, []line{
		l("mail.greeting", "Taro"), l("mail.org_application_rejected.body", "Alpha", "NK-PASS"), l("mail.org_application_rejected.reason"),
		l("mail.org_application_rejected.again"), {key: "no <contract>"},
	}, false},
	{KindMFARemoved, NameData{Name: "Taro"}, []line{
		l("mail.greeting", "Taro"), l("mail.mfa_removed.body"), l("mail.notyou.contact", helpdesk),
	}, false},
	{KindLegacyRegister, LegacyRegisterData{Name: "Taro", Link: link, ExpiresMinutes: 1440, LoginID: "NKS-1", Service: "NK-SHIPS"}, []line{
		l("mail.greeting", "Taro"), l("mail.legacy_register.intro", "NKS-1", "NK-SHIPS"), l("mail.link.expires", 1440),
		l("mail.legacy_register.shared"), l("mail.ignore"),
	}, true},
	{KindLegacyReminder, LegacyReminderData{LoginID: "NKS-1", Service: "NK-SHIPS", Org: "Alpha", Ends: "14 September 2026", Link: link}, []line{
		l("mail.greeting.anon"), l("mail.legacy_reminder.intro", "NKS-1", "NK-SHIPS", "Alpha"), l("mail.legacy_reminder.ends", "14 September 2026"),
		l("mail.legacy_reminder.how"), l("mail.legacy_reminder.why"),
	}, true},
}

func TestComposeEveryKindInBothLanguages(t *testing.T) {
	b := newBundle(t)
	c := newComposer(t)
	if len(composeCases) != len(Kinds) {
		t.Fatalf("%d cases for %d kinds", len(composeCases), len(Kinds))
	}
	for _, tc := range composeCases {
		for _, lang := range []language.Tag{language.English, language.Japanese} {
			t.Run(tc.kind+"/"+lang.String(), func(t *testing.T) {
				m, err := c.Compose(tc.kind, lang, "taro@example.com", tc.data)
				if err != nil {
					t.Fatal(err)
				}
				p := b.Printer(lang)
				if want := p.T("mail." + tc.kind + ".subject"); m.Subject != want || m.To != "taro@example.com" {
					t.Errorf("subject, to = %q, %q; want %q", m.Subject, m.To, want)
				}
				for _, ln := range tc.lines {
					want := p.T(ln.key, ln.args...)
					if !strings.Contains(m.Text, want) {
						t.Errorf("text lacks %s %q:\n%s", ln.key, want, m.Text)
					}
					if !strings.Contains(m.HTML, template.HTMLEscapeString(want)) {
						t.Errorf("HTML lacks %s %q:\n%s", ln.key, want, m.HTML)
					}
				}
				if tc.link {
					if !strings.Contains(m.Text, "\n"+link+"\n") {
						t.Errorf("text lacks the link on its own line:\n%s", m.Text)
					}
					if !strings.Contains(m.HTML, `href="`+template.HTMLEscapeString(link)+`"`) {
						t.Errorf("HTML lacks the link:\n%s", m.HTML)
					}
				}
				if !strings.Contains(m.HTML, `<html lang="`+lang.String()+`">`) {
					t.Errorf("HTML lang is not %s", lang)
				}
				for _, body := range []string{m.Text, m.HTML} {
					if strings.Contains(body, "%!") || strings.Contains(body, "<no value>") {
						t.Errorf("a formatting error leaked:\n%s", body)
					}
					for key := range Messages {
						if strings.Contains(body, key) {
							t.Errorf("key %s leaked:\n%s", key, body)
						}
					}
				}
				if lang == language.Japanese && !strings.Contains(m.Text, "カスタマーハブ") {
					t.Errorf("Japanese text is not Japanese:\n%s", m.Text)
				}
			})
		}
	}
}

func TestComposeEscapesHTMLButNotText(t *testing.T) {
	c := newComposer(t)
	name := `<b>Taro & "Co"</b>`
	m, err := c.Compose(KindEmailChangeNotice, language.English, "taro@example.com",
		EmailChangeData{Name: name, NewEmail: "<script>alert(1)</script>@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<b>Taro") || strings.Contains(m.HTML, "<script>") {
		t.Errorf("HTML carries unescaped data:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "&lt;b&gt;Taro &amp; &#34;Co&#34;&lt;/b&gt;") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("HTML lacks the escaped data:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, name) {
		t.Errorf("text should carry the name as is:\n%s", m.Text)
	}
}

func TestComposeRejectsBadInput(t *testing.T) {
	c := newComposer(t)
	for name, tc := range map[string]struct {
		kind, to string
		data     any
	}{
		"unknown kind":      {"welcome", "a@example.com", NameData{}},
		"javascript link":   {KindPasswordReset, "a@example.com", LinkData{Link: "javascript:alert(1)", ExpiresMinutes: 5}},
		"relative link":     {KindVerifyEmail, "a@example.com", LinkData{Link: "/verify?t=1", ExpiresMinutes: 5}},
		"no expiry":         {KindVerifyEmail, "a@example.com", LinkData{Link: link}},
		"no new email":      {KindEmailChangeNotice, "a@example.com", EmailChangeData{Name: "A"}},
		"two recipients":    {KindPasswordChanged, "a@example.com, b@example.com", NameData{}},
		"header injection":  {KindPasswordChanged, "a@example.com\r\nBcc: x@example.com", NameData{}},
		"missing data key":  {KindPasswordReset, "a@example.com", map[string]any{"Name": "A"}},
		"wrong data type":   {KindPasswordReset, "a@example.com", NameData{Name: "A"}},
		"no data":           {KindPasswordChanged, "a@example.com", nil},
		"not an address":    {KindPasswordChanged, "nobody", NameData{}},
		"empty address":     {KindPasswordChanged, "", NameData{}},
		"newline in domain": {KindPasswordChanged, "a@exa\nmple.com", NameData{}},
	} {
		if _, err := c.Compose(tc.kind, language.English, tc.to, tc.data); err == nil {
			t.Errorf("%s: Compose accepted it", name)
		}
	}
}

func TestComposeMatchesLanguages(t *testing.T) {
	c := newComposer(t)
	for tag, want := range map[language.Tag]string{
		language.MustParse("ja-JP"): "【カスタマーハブ】",
		language.MustParse("en-GB"): "[Customer Hub]",
		language.MustParse("fr"):    "[Customer Hub]",
		language.Und:                "[Customer Hub]",
	} {
		m, err := c.Compose(KindPasswordChanged, tag, "a@example.com", NameData{Name: "A"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.Subject, want) {
			t.Errorf("%s: subject %q, want it to start with %q", tag, m.Subject, want)
		}
	}
}

func TestComposeWithoutHelpdesk(t *testing.T) {
	b := newBundle(t)
	c, err := NewComposer(b, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Compose(KindPasswordResetDone, language.English, "a@example.com", NameData{Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	p := b.Printer(language.English)
	if !strings.Contains(m.Text, p.T("mail.notyou")) || strings.Contains(m.Text, "helpdesk:") {
		t.Errorf("text without a helpdesk:\n%s", m.Text)
	}
}

func TestNewComposerNeedsTheMessages(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewComposer(b, ""); err == nil || !strings.Contains(err.Error(), "mail.Messages") {
		t.Errorf("NewComposer without mail.Messages: %v", err)
	}
	if _, err := NewComposer(nil, ""); err == nil {
		t.Error("NewComposer accepted a nil bundle")
	}
}

func TestTemplatesHaveNoHardCodedText(t *testing.T) {
	found, err := web.HardCodedText(Templates)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("hard-coded text: %s", f)
	}
	// Text templates: with the actions removed, no letters may remain.
	names, err := fs.Glob(Templates, "templates/*.txt")
	if err != nil || len(names) != len(Kinds)+1 {
		t.Fatalf("text templates %v: %v", names, err)
	}
	action := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	letter := regexp.MustCompile(`\p{L}`)
	for _, n := range names {
		src, err := fs.ReadFile(Templates, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, ln := range strings.Split(action.ReplaceAllString(string(src), ""), "\n") {
			if letter.MatchString(ln) {
				t.Errorf("hard-coded text: %s: %s", n, strings.TrimSpace(ln))
			}
		}
	}
}

func TestEveryMessageIsUsed(t *testing.T) {
	var src strings.Builder
	err := fs.WalkDir(Templates, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Templates, path)
		src.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range Messages {
		if !strings.HasPrefix(key, "mail.") {
			t.Errorf("key %q is not under mail.", key)
		}
		kind, _, _ := strings.Cut(strings.TrimPrefix(key, "mail."), ".")
		if strings.HasSuffix(key, ".subject") && slices.Contains(Kinds, kind) {
			continue
		}
		if strings.HasPrefix(key, "mail.role.") {
			continue // RoleKey's, checked by TestRoleKeys
		}
		if !strings.Contains(src.String(), `"`+key+`"`) {
			t.Errorf("message %q is not used by any template", key)
		}
	}
}

func TestRoleKeys(t *testing.T) {
	for _, r := range []string{"administrator", "normal", "visitor"} {
		if _, ok := Messages[RoleKey(r)]; !ok {
			t.Errorf("no message %s", RoleKey(r))
		}
	}
}
