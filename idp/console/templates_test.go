package console

import (
	"os"
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

// Every message key is the console's own ("console.") and every key the
// code names exists in both languages (i18n.New fails otherwise).
func TestMessagesAreTheConsolesOwn(t *testing.T) {
	for k, m := range Messages {
		if !strings.HasPrefix(k, "console.") || m.EN == "" || m.JA == "" {
			t.Errorf("message %q: %+v", k, m)
		}
	}
	keyRe := regexp.MustCompile(`"(console\.[a-z0-9._]+)"`)
	for _, f := range []string{"console.go", "members.go", "invitations.go", "accept.go", "history.go", "org.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(src), -1) {
			k := m[1]
			if strings.HasSuffix(k, ".") { // a prefix, completed at run time
				continue
			}
			if _, ok := Messages[k]; !ok {
				t.Errorf("%s names %q, which has no message", f, k)
			}
		}
	}
	for _, s := range sections {
		if _, ok := Messages["console.nav."+s]; !ok {
			t.Errorf("section %s has no title", s)
		}
	}
}
