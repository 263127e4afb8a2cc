// Package web renders hubid's browser pages: embedded templates parsed at
// start-up, one stylesheet, translated error pages that never show
// internal detail, and the headers every page gets (CSP, CSRF protection
// with http.CrossOriginProtection). API endpoints do not use it.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/httpx"
	"github.com/customerhub/hubid/idp/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Helpdesk is the contact shown on error pages.
type Helpdesk struct{ Email, Phone, URL string }

// String joins the contact details.
func (h Helpdesk) String() string {
	var parts []string
	for _, s := range []string{h.Email, h.Phone, h.URL} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " / ")
}

// Renderer renders pages.
type Renderer struct {
	pages    map[string]*template.Template
	Bundle   *i18n.Bundle
	Helpdesk Helpdesk
	Logger   *slog.Logger
}

// NewRenderer parses the layout and the error page from this package and
// every page of the given file systems (each with a templates/ folder),
// once, at start-up. A page name defined twice is an error.
func NewRenderer(b *i18n.Bundle, hd Helpdesk, log *slog.Logger, pages ...fs.FS) (*Renderer, error) {
	layout, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	r := &Renderer{pages: map[string]*template.Template{}, Bundle: b, Helpdesk: hd, Logger: log}
	for _, fsys := range append([]fs.FS{templateFS}, pages...) {
		names, err := fs.Glob(fsys, "templates/*.html")
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if base == "layout" {
				continue
			}
			if _, dup := r.pages[base]; dup {
				return nil, fmt.Errorf("web: page %q defined twice", base)
			}
			t, err := template.Must(layout.Clone()).ParseFS(fsys, n)
			if err != nil {
				return nil, fmt.Errorf("web: %s: %w", n, err)
			}
			r.pages[base] = t
		}
	}
	return r, nil
}

// Page is what every template receives.
type Page struct {
	P        *i18n.Printer
	Title    string // message key
	Helpdesk string
	URL      *url.URL // for the language switcher
	Data     any
}

// LangURL is the current page with lang set, for the switcher.
func (p Page) LangURL(lang string) string {
	q := p.URL.Query()
	q.Set("lang", lang)
	return p.URL.Path + "?" + q.Encode()
}

// LangSwitch handles ?lang=xx on GET: it stores the choice in a cookie and
// redirects to the same URL without the parameter.
func LangSwitch(b *i18n.Bundle, secure bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := r.URL.Query().Get("lang")
		if r.Method != http.MethodGet || lang == "" {
			h.ServeHTTP(w, r)
			return
		}
		tag := b.Match(lang)
		http.SetCookie(w, &http.Cookie{Name: i18n.LangCookie, Value: tag.String(), Path: "/",
			MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
		q := r.URL.Query()
		q.Del("lang")
		target := r.URL.Path
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// Render writes a page with status.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, name string, p *i18n.Printer, title string, data any) {
	t, ok := r.pages[name]
	if !ok {
		r.Logger.ErrorContext(req.Context(), "unknown page", slog.String("page", name))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	err := t.ExecuteTemplate(&buf, "layout", Page{P: p, Title: title, Helpdesk: r.Helpdesk.String(), URL: req.URL, Data: data})
	if err != nil {
		r.Logger.ErrorContext(req.Context(), "render page", slog.String("page", name), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ErrorData is the error page's data.
type ErrorData struct {
	Message   string // message key
	RequestID string
}

// Error renders the translated error page for err: its status from the
// error code, a message key chosen by the caller (or from the code), the
// request ID as a reference; the error itself only goes to the log.
//
// A backend failure anywhere in err's chain (apperr.IsUnavailable) is
// always 503 "temporarily unavailable", whatever code the caller wrapped
// it in and whatever message it asked for: a storage outage must never
// tell a person that their sign-in expired or that the service's request
// was wrong. A caller's own message that is not a generic "error.*" one
// (say "recovery.partial": the password changed but the sessions could
// not be ended) is kept: it tells the person a state, not a cause.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, p *i18n.Printer, err error, msgKey string) {
	code := apperr.CodeOf(err)
	if apperr.IsUnavailable(err) {
		code = apperr.Unavailable
		if msgKey == "" || strings.HasPrefix(msgKey, "error.") {
			msgKey = "error.unavailable"
		}
	}
	status := apperr.HTTPStatus(code)
	lvl := slog.LevelWarn
	if status >= 500 && code != apperr.Unavailable {
		lvl = slog.LevelError
	}
	r.Logger.Log(req.Context(), lvl, "page error", slog.Any("err", err), slog.Int("status", status))
	if msgKey == "" || !r.Bundle.Has(msgKey) {
		msgKey = map[apperr.Code]string{
			apperr.Unavailable: "error.unavailable", apperr.NotFound: "error.notfound",
			apperr.Forbidden: "error.forbidden", apperr.Invalid: "error.badrequest",
			apperr.Unauthorized: "error.forbidden", apperr.RateLimited: "error.unavailable",
		}[code]
		if msgKey == "" {
			msgKey = "error.internal"
		}
	}
	if code == apperr.Unavailable {
		w.Header().Set("Retry-After", "30")
	}
	r.Render(w, req, status, "error", p, "error.title", ErrorData{Message: msgKey, RequestID: httpx.RequestID(req.Context())})
}

// PageCSP is the Content-Security-Policy of every page: only our own
// stylesheet and images, no scripts, no framing. form-action is not set:
// Chrome applies it to the redirect chain after a form post, which ends at
// the service's redirect URI.
const PageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"

// Protect wraps page handlers: page CSP and CSRF protection for
// state-changing requests (http.CrossOriginProtection checks
// Sec-Fetch-Site / Origin).
func Protect(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	inner := cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", PageCSP)
		inner.ServeHTTP(w, r)
	})
}

// Static serves /static/ with long caching.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	})
}

var (
	actionRe = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tagRe    = regexp.MustCompile(`(?s)<[^>]*>|&[a-z]+;`)
	letterRe = regexp.MustCompile(`\p{L}`)
)

// HardCodedText lists text written directly in the templates of fsys
// (templates/*.html): with actions, tags and entities removed, no letters
// may remain. Every page package's tests call it.
func HardCodedText(fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("web: no templates: %v", err)
	}
	var found []string
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		text := tagRe.ReplaceAllString(actionRe.ReplaceAllString(string(src), ""), " ")
		for _, line := range strings.Split(text, "\n") {
			if s := strings.TrimSpace(line); letterRe.MatchString(s) {
				found = append(found, n+": "+s)
			}
		}
	}
	return found, nil
}
