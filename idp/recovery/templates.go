package recovery

import "embed"

// Templates are the recovery and verification pages (rendered with web's
// layout); pass them to web.NewRenderer.
//
//go:embed templates/*.html
var Templates embed.FS
