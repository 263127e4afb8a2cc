package recovery

import (
	"io/fs"
	"log/slog"
	"regexp"
	"testing"

	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/login"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
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

// The package's messages and pages fit beside the other pages' (unique
// keys and page names), and every key a template names exists.
func TestMessagesAndPagesFitTheServer(t *testing.T) {
	b, err := i18n.New(web.Messages, Messages, pwpolicy.Messages, mail.Messages, login.Messages, hub.Messages)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := web.NewRenderer(b, web.Helpdesk{}, slog.New(slog.DiscardHandler), login.Templates, hub.Templates, Templates); err != nil {
		t.Fatal(err)
	}
	keyRe := regexp.MustCompile(`\.P\.T "([^"]+)"`)
	names, _ := fs.Glob(Templates, "templates/*.html")
	for _, n := range names {
		src, err := fs.ReadFile(Templates, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(src), -1) {
			if !b.Has(m[1]) {
				t.Errorf("%s: unknown message %q", n, m[1])
			}
		}
	}
}
