package idp

import (
	"net/http"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/httpx"
	"github.com/customerhub/hubid/idp/oidcstore"
)

// browserErrors wraps op's endpoints that a browser visits (/authorize,
// /authorize/callback, /end_session). When op answers an error it could
// not redirect to the service (a bad client_id or redirect_uri), it writes
// plain English text; this renders our translated error page instead,
// with the helpdesk contact, and logs op's text. Redirects and successful
// responses pass through unchanged. These responses are small, so
// buffering them costs nothing that matters.
//
// The page follows the kind of the failure, not op's status: op answers
// 400 "invalid request" when it could not load the client, also when the
// database was down. The storage adapter records the kind of every storage
// failure in the request's memo (oidcstore.Failure), so a backend outage
// is a 503 "temporarily unavailable" page and another storage failure a
// 500; an error op found by itself in the request is the client's (400).
func (s *Server) browserErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := oidcstore.WithMemo(r.Context())
		buf := httpx.NewBuffer()
		next.ServeHTTP(buf, r.WithContext(ctx))
		ct := buf.Header().Get("Content-Type")
		plain := buf.Status >= 400 && buf.Header().Get("Location") == "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/html")
		if plain && (buf.Status == http.StatusNotFound || buf.Status == http.StatusMethodNotAllowed) {
			// No such endpoint under /authorize/, or not for this method.
			if allow := buf.Header().Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			s.renderer.Status(w, r, buf.Status)
			return
		}
		if plain {
			p := s.renderer.Bundle.Printer(s.renderer.Bundle.FromRequest(r, r.URL.Query().Get("ui_locales")))
			code := oidcstore.Failure(ctx)
			switch {
			case code != "":
			case buf.Status >= 500:
				code = apperr.Internal
			default:
				code = apperr.Invalid
			}
			s.renderer.Error(w, r, p, apperr.New(code, "authorization endpoint: "+strings.TrimSpace(buf.Body.String())), "")
			return
		}
		buf.Send(w)
	})
}

// unavailableStatus answers 503 with Retry-After and the OAuth error
// temporarily_unavailable on the API endpoints (token, userinfo,
// introspection, revocation) whenever a backend was down during the
// request, whatever error op wrapped it in (op turns every refresh token
// lookup failure into invalid_grant, which would make a client discard a
// good token). Every other response passes through unchanged.
func unavailableStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := oidcstore.WithMemo(r.Context())
		buf := httpx.NewBuffer()
		next.ServeHTTP(buf, r.WithContext(ctx))
		if oidcstore.Unavailable(ctx) && (buf.Status >= 400 || buf.Status == 0) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"` + oidcstore.TemporarilyUnavailable + `","error_description":"the service is temporarily unavailable; try again shortly"}`))
			return
		}
		buf.Send(w)
	})
}
