package login

import (
	"net/http"
	"strings"
)

// LegacyHint is what the email page tells someone who typed a login ID of
// the services' old sign-in into the email box.
type LegacyHint int

// Hints, by the phase of the migration.
const (
	NoLegacyHint LegacyHint = iota
	// LegacyPreregister: the pre-registration window is open; the page
	// links to /preregister.
	LegacyPreregister
	// LegacyNotHere: a login ID outside the window, before the cutover:
	// it does not sign in to the hub.
	LegacyNotHere
	// LegacyRetired: after the cutover login IDs sign in nowhere; the page
	// names the helpdesk.
	LegacyRetired
)

func (l LegacyHint) key() string {
	return [...]string{"signin.email.required", "signin.legacy.preregister", "signin.legacy.nothere", "signin.legacy.retired"}[l]
}

// legacyHint classifies what was typed into the email box when it is not
// an address; anything with an "@" is a mistyped address, not a login ID.
func (h *Handler) legacyHint(r *http.Request, typed string) LegacyHint {
	typed = strings.TrimSpace(typed)
	if h.d.LegacyLoginID == nil || typed == "" || strings.Contains(typed, "@") {
		return NoLegacyHint
	}
	return h.d.LegacyLoginID(r.Context(), typed)
}

// Preregister reports whether the page links to the pre-registration.
func (l LegacyHint) Preregister() bool { return l == LegacyPreregister }

// Retired reports whether the page names whom to ask.
func (l LegacyHint) Retired() bool { return l == LegacyRetired }
