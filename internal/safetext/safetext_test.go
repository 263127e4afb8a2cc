package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	ua := "Mozilla/5.0 " + strings.Repeat("日本語", 100)
	for n := 0; n < 40; n++ {
		got := Cut(ua, n)
		if len(got) > n || !utf8.ValidString(got) || !strings.HasPrefix(ua, got) {
			t.Fatalf("Cut(%d) = %q", n, got)
		}
	}
	if got := Cut("a\xffb", 10); got != "a?b" {
		t.Fatalf("invalid bytes: %q", got)
	}
	if got := Cut("short", 10); got != "short" {
		t.Fatalf("%q", got)
	}
}
