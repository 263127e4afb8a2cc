package login

import "embed"

// Templates are the sign-in and logout pages (rendered with web's layout).
//
//go:embed templates/*.html
var Templates embed.FS
