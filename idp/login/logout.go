package login

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/customerhub/hubid/apperr"
)

// LoggedOutPath is where a logout without a registered redirect ends.
const LoggedOutPath = "/logged-out"

// ConfirmURL is where op's end_session sends a request without a valid
// id_token_hint: the person confirms, so a cross-site link cannot sign
// them out silently.
func ConfirmURL(redirect string) string {
	return "/logout?" + url.Values{"post_logout_redirect_uri": {redirect}}.Encode()
}

type logoutData struct{ RedirectURI, State string }

func (h *Handler) logoutPage(w http.ResponseWriter, r *http.Request) {
	h.d.Renderer.Render(w, r, http.StatusOK, "logout", h.printer(r, nil), "logout.title",
		logoutData{RedirectURI: r.FormValue("post_logout_redirect_uri")})
}

// allowedRedirect accepts our own page or a registered post-logout URI of
// some client (ignoring the state parameter op appended), and returns that
// client ("" for our page); anything else would make /logout an open
// redirector.
func (h *Handler) allowedRedirect(r *http.Request, target string) (string, string, error) {
	if target == "" || target == LoggedOutPath {
		return LoggedOutPath, "", nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", "", err
	}
	q := u.Query()
	q.Del("state")
	u.RawQuery = q.Encode()
	bare := u.String()
	cs, err := h.d.Directory.ListClients(r.Context())
	if err != nil {
		return "", "", err
	}
	for _, c := range cs {
		if slices.Contains(c.PostLogoutRedirectURIs, bare) {
			return target, c.ID, nil
		}
	}
	return "", "", apperr.New(apperr.Invalid, "post_logout_redirect_uri is not registered")
}

func (h *Handler) postLogout(w http.ResponseWriter, r *http.Request) {
	target, clientID, err := h.allowedRedirect(r, r.PostFormValue("post_logout_redirect_uri"))
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, nil), err, "error.badrequest")
		return
	}
	s, live, err := h.d.Sessions.Current(r.Context(), w, r)
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, nil), err, "")
		return
	}
	if live {
		if err := h.d.EndSession(r.Context(), s.ID); err != nil {
			h.d.Renderer.Error(w, r, h.printer(r, nil), err, "")
			return
		}
		kind := KindSignOutHub
		if clientID != "" { // confirmed a service's logout request
			kind = KindSignOutService
		}
		h.audit(r.Context(), r, kind, s.UserID, clientID, nil)
	}
	h.d.Sessions.Clear(w)
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (h *Handler) loggedOut(w http.ResponseWriter, r *http.Request) {
	h.d.Renderer.Render(w, r, http.StatusOK, "logged_out", h.printer(r, nil), "logout.title", nil)
}
