// Package safetext shortens untrusted text for storage and logs without
// ever producing invalid UTF-8 (which PostgreSQL refuses in TEXT columns).
package safetext

import (
	"strings"
	"unicode/utf8"
)

// Cut returns s as valid UTF-8 (invalid bytes become "?"), shortened to at
// most n bytes at a character boundary.
func Cut(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
