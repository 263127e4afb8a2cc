package idp

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/oidcstore"
)

// bufferedWriter holds a response so it can be replaced before it is sent.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

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
		buf := &bufferedWriter{header: http.Header{}}
		next.ServeHTTP(buf, r.WithContext(ctx))
		ct := buf.header.Get("Content-Type")
		if buf.status >= 400 && buf.header.Get("Location") == "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/html") {
			p := s.renderer.Bundle.Printer(s.renderer.Bundle.FromRequest(r, r.URL.Query().Get("ui_locales")))
			code := oidcstore.Failure(ctx)
			switch {
			case code != "":
			case buf.status >= 500:
				code = apperr.Internal
			default:
				code = apperr.Invalid
			}
			s.renderer.Error(w, r, p, apperr.New(code, "authorization endpoint: "+strings.TrimSpace(buf.body.String())), "")
			return
		}
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		if buf.status == 0 {
			buf.status = http.StatusOK
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
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
		buf := &bufferedWriter{header: http.Header{}}
		next.ServeHTTP(buf, r.WithContext(ctx))
		if oidcstore.Unavailable(ctx) && (buf.status >= 400 || buf.status == 0) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"` + oidcstore.TemporarilyUnavailable + `","error_description":"the service is temporarily unavailable; try again shortly"}`))
			return
		}
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		if buf.status == 0 {
			buf.status = http.StatusOK
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
	})
}
