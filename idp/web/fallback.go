package web

import (
	_ "embed"
	"net/http"
	"strconv"

	"github.com/customerhub/hubid/idp/httpx"
)

// Status renders the translated page for a request no handler answers:
// 404 (no such page) or 405 (the page exists, not for this method), in
// the layout, with a link on to the hub.
func (r *Renderer) Status(w http.ResponseWriter, req *http.Request, status int) {
	p := r.Bundle.Printer(r.Bundle.FromRequest(req))
	if r.Peek != nil && MenuFrom(req.Context()) == nil {
		if m, mp := r.Peek(w, req); m != nil && mp != nil {
			req, p = req.WithContext(WithMenu(req.Context(), *m)), mp
		}
	}
	title, msg := "error.notfound.title", "error.notfound.help"
	if status == http.StatusMethodNotAllowed {
		title, msg = "error.method.title", "error.method"
	} else {
		status = http.StatusNotFound
	}
	w.Header().Set("Content-Security-Policy", PageCSP)
	r.Render(w, req, status, "error", p, title, ErrorData{Message: msg})
}

// NotFound answers every request with the translated 404 page.
func (r *Renderer) NotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.Status(w, req, http.StatusNotFound) })
}

// Fallback serves mux, answering what it has no route for (404) or no
// handler for the method (405, with Allow) with the translated pages
// instead of Go's plain text: with the page CSP and the language switcher
// (secure: the switcher's cookie is Secure). Everything mux routes,
// redirects included, passes through untouched.
func (r *Renderer) Fallback(mux *http.ServeMux, secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h, pattern := mux.Handler(req)
		if pattern != "" {
			mux.ServeHTTP(w, req)
			return
		}
		// ServeMux returns a handler that writes its plain-text error:
		// run it aside to learn which one.
		rec := httpx.NewBuffer()
		h.ServeHTTP(rec, req)
		switch rec.Status {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			status, allow := rec.Status, rec.Header().Get("Allow")
			LangSwitch(r.Bundle, secure, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if allow != "" {
					w.Header().Set("Allow", allow)
				}
				r.Status(w, req, status)
			})).ServeHTTP(w, req)
		default:
			rec.Send(w)
		}
	})
}

//go:embed static/favicon.ico
var favicon []byte

// Favicon serves /favicon.ico, which browsers ask for on every page.
func Favicon() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "image/x-icon")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("Content-Length", strconv.Itoa(len(favicon)))
		_, _ = w.Write(favicon)
	})
}
