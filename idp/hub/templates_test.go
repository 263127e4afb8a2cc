package hub

import (
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
