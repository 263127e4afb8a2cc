package recovery

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/store"
)

// ReturnCookie carries the sign-in a person was in when they asked for a
// new password through the detour by mail, so that /reset/done leads back
// to it (the service they were signing in to) rather than to the hub.
//
// It holds only the pending authorization request's ID, which is random
// and already appears in the sign-in pages' URLs; it is honoured only
// while that request is pending (not finished, not expired), it expires
// with the request, and it leads only to hubid's own /login page, where
// the person signs in with the new password. A link opened in another
// browser has no cookie and ends at the hub's sign-in, as before.
const ReturnCookie = "hubid_return"

// maxAuthRequestID bounds an auth request ID read from a form or cookie.
const maxAuthRequestID = 128

// AuthRequests finds pending sign-ins (store.Ephemeral satisfies it).
type AuthRequests interface {
	GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error)
}

// pendingSignIn is a sign-in to go back to.
type pendingSignIn struct {
	ID      string
	Service string // the client's name; "" for a sign-in to the hub itself
	Email   string // the address typed on the sign-in page
	Expires time.Time
}

// Link is the page that continues the sign-in.
func (p pendingSignIn) Link() string { return "/login?authRequestID=" + url.QueryEscape(p.ID) }

// signIn loads the sign-in with that ID if it can still be finished.
func (h *Handler) signIn(ctx context.Context, id string) (pendingSignIn, bool) {
	if h.d.AuthRequests == nil || id == "" || len(id) > maxAuthRequestID {
		return pendingSignIn{}, false
	}
	ar, err := h.d.AuthRequests.GetAuthRequest(ctx, id)
	if err != nil || ar.Done || (!ar.ExpiresAt.IsZero() && !h.d.Now().Before(ar.ExpiresAt)) {
		return pendingSignIn{}, false
	}
	p := pendingSignIn{ID: ar.ID, Email: ar.LoginHint, Expires: ar.ExpiresAt}
	if ar.ClientID != "" {
		if c, err := h.d.Directory.GetClient(ctx, ar.ClientID); err == nil {
			p.Service = c.Name
		}
	}
	return p, true
}

// rememberReturn sets ReturnCookie for the pending sign-in p, until it
// expires.
func (h *Handler) rememberReturn(w http.ResponseWriter, p pendingSignIn) {
	http.SetCookie(w, &http.Cookie{Name: ReturnCookie, Value: p.ID, Path: "/", Expires: p.Expires, HttpOnly: true,
		Secure: strings.HasPrefix(h.d.Issuer, "https://"), SameSite: http.SameSiteLaxMode})
}

// returnTo is the pending sign-in named by ReturnCookie, if any; the
// cookie is cleared either way, as the page about to be shown links to it.
func (h *Handler) returnTo(w http.ResponseWriter, r *http.Request) (pendingSignIn, bool) {
	c, err := r.Cookie(ReturnCookie)
	if err != nil {
		return pendingSignIn{}, false
	}
	http.SetCookie(w, &http.Cookie{Name: ReturnCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: strings.HasPrefix(h.d.Issuer, "https://"), SameSite: http.SameSiteLaxMode})
	return h.signIn(r.Context(), c.Value)
}

// printer is the language of a forgot-password page: that of the person
// signing in when the page belongs to a sign-in (like the sign-in pages
// after the email step, so the detour does not change language), else the
// browser's.
func (h *Handler) printer(r *http.Request, p pendingSignIn, ok bool) *i18n.Printer {
	if ok && p.Email != "" {
		if u, err := h.d.Directory.GetUserByEmail(r.Context(), p.Email); err == nil {
			return h.d.Guard.Printer(r, &u)
		}
	}
	return h.d.Guard.Printer(r, nil)
}
