// Package legacyui serves the pre-registration pages (/preregister...):
// a thin adapter over package legacy that parses forms, calls the service
// and renders. Dates are shown in the reader's language and in the zone
// that goes with it (Japanese: Asia/Tokyo, otherwise UTC), with the zone
// named: the pages run no script (the CSP forbids it), so the browser's
// own time zone is not known.
package legacyui

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/internal/safetext"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/store"
)

// Templates are the pages; pass them to web.NewRenderer.
//
//go:embed templates/*.html
var Templates embed.FS

const maxFormBytes = 16 << 10

// Deps are the pages' collaborators.
type Deps struct {
	Service  *legacy.Service
	Renderer *web.Renderer
	// Printer gives the page language (hub.Guard.Printer).
	Printer       func(r *http.Request) *i18n.Printer
	HelpdeskURL   string
	HelpdeskEmail string
	MinLength     int // password policy, for the hint
	Proxies       []netip.Prefix
	Logger        *slog.Logger
}

// Handler serves the pages.
type Handler struct{ d Deps }

// New returns the handler.
func New(d Deps) *Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// Mount registers the pages (wrapped with web.Protect by the caller).
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /preregister", h.start)
	mux.HandleFunc("POST /preregister", h.postSignIn)
	mux.HandleFunc("POST /preregister/register", h.postRegister)
	mux.HandleFunc("GET /preregister/sent", h.sent)
	mux.HandleFunc("GET /preregister/confirm", h.confirm)
	mux.HandleFunc("POST /preregister/confirm", h.postConfirm)
}

// Open reports whether the pre-registration is open now: the sign-in page
// links to /preregister while it is.
func (h *Handler) Open() bool { return h.d.Service.Phase() == legacy.PhaseOpen }

// IsLegacyLoginID tells whether what someone typed into the email box is
// a legacy login ID (for the sign-in page's hint).
func (h *Handler) IsLegacyLoginID(ctx context.Context, s string) bool {
	ok, err := h.d.Service.IsLegacyLoginID(ctx, s)
	return ok && err == nil
}

func (h *Handler) meta(r *http.Request) legacy.Meta {
	return legacy.Meta{IP: throttle.ClientIP(r, h.d.Proxies), UserAgent: safetext.Cut(r.UserAgent(), 256)}
}

// jst is Japan's zone (no daylight saving time since 1951).
var jst = time.FixedZone("JST", 9*3600)

// FormatTime writes t for a reader of lang, in the zone that goes with it.
func FormatTime(t time.Time, lang string) string {
	if t.IsZero() {
		return ""
	}
	if strings.HasPrefix(lang, "ja") {
		return t.In(jst).Format("2006年1月2日 15:04") + "（日本時間）"
	}
	return t.UTC().Format("2 January 2006, 15:04") + " UTC"
}

type dates struct{ Start, End, Cutover string }

func (h *Handler) dates(p *i18n.Printer) dates {
	w := h.d.Service.Window()
	return dates{FormatTime(w.Start, p.Lang()), FormatTime(w.End, p.Lang()), FormatTime(w.Cutover, p.Lang())}
}

type closedData struct {
	Message       string // key
	Dates         dates
	HelpdeskURL   string
	HelpdeskEmail string
}

// closed renders the page for a phase other than open.
func (h *Handler) closed(w http.ResponseWriter, r *http.Request, p *i18n.Printer) {
	key := map[legacy.Phase]string{
		legacy.PhaseNone: "legacy.closed.none", legacy.PhaseBefore: "legacy.closed.before",
		legacy.PhaseClosed: "legacy.closed.after", legacy.PhaseCutover: "legacy.closed.cutover",
	}[h.d.Service.Phase()]
	h.d.Renderer.Render(w, r, http.StatusForbidden, "legacy_closed", p, "legacy.title",
		closedData{Message: key, Dates: h.dates(p), HelpdeskURL: h.d.HelpdeskURL, HelpdeskEmail: h.d.HelpdeskEmail})
}

type signInData struct {
	Services         []store.Service
	Service, LoginID string
	Error, RetryAt   string
	Dates            dates
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	p := h.d.Printer(r)
	if !h.Open() {
		h.closed(w, r, p)
		return
	}
	d := signInData{Service: r.URL.Query().Get("service")}
	if e := r.URL.Query().Get("e"); e == "legacy.ticket.expired" {
		d.Error = e
	}
	h.renderSignIn(w, r, p, http.StatusOK, d)
}

func (h *Handler) renderSignIn(w http.ResponseWriter, r *http.Request, p *i18n.Printer, status int, d signInData) {
	svcs, err := h.d.Service.Services(r.Context())
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	d.Services, d.Dates = svcs, h.dates(p)
	h.d.Renderer.Render(w, r, status, "legacy_signin", p, "legacy.title", d)
}

func (h *Handler) postSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	p := h.d.Printer(r)
	d := signInData{Service: r.PostFormValue("service"), LoginID: strings.TrimSpace(r.PostFormValue("login_id"))}
	pw := r.PostFormValue("password")
	if d.Service == "" || d.LoginID == "" || pw == "" {
		d.Error = "legacy.signin.required"
		h.renderSignIn(w, r, p, http.StatusBadRequest, d)
		return
	}
	t, err := h.d.Service.Authenticate(r.Context(), d.Service, safetext.Cut(d.LoginID, 256), pw, h.meta(r))
	var te *legacy.ThrottledError
	switch {
	case err == nil:
		h.renderRegister(w, r, p, http.StatusOK, registerData{Ticket: t.Token, LoginID: t.LoginID, ServiceName: t.ServiceName, Locale: p.Lang()})
	case errors.Is(err, legacy.ErrClosed):
		h.closed(w, r, p)
	case errors.As(err, &te):
		d.Error, d.RetryAt = "legacy.signin.throttled", FormatTime(te.RetryAt, p.Lang())
		h.renderSignIn(w, r, p, http.StatusTooManyRequests, d)
	case errors.Is(err, legacy.ErrBadCredentials), apperr.CodeOf(err) == apperr.NotFound:
		d.Error = "legacy.signin.failed"
		h.renderSignIn(w, r, p, http.StatusUnauthorized, d)
	default:
		h.d.Renderer.Error(w, r, p, err, "")
	}
}

type registerData struct {
	Ticket, LoginID, ServiceName string
	Email, Name, Locale          string
	Error                        string // key
}

func (h *Handler) renderRegister(w http.ResponseWriter, r *http.Request, p *i18n.Printer, status int, d registerData) {
	h.d.Renderer.Render(w, r, status, "legacy_register", p, "legacy.register.title", d)
}

func (h *Handler) postRegister(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	p := h.d.Printer(r)
	ctx := r.Context()
	t, err := h.d.Service.OpenTicket(ctx, r.PostFormValue("ticket"))
	if err != nil {
		if errors.Is(err, legacy.ErrBadTicket) {
			http.Redirect(w, r, "/preregister?e=legacy.ticket.expired", http.StatusSeeOther)
			return
		}
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	locale := r.PostFormValue("locale")
	if locale != "ja" {
		locale = "en"
	}
	in := legacy.RegisterInput{Email: strings.TrimSpace(r.PostFormValue("email")), Name: r.PostFormValue("name"), Locale: locale}
	err = h.d.Service.Register(ctx, t, in, h.meta(r))
	d := registerData{Ticket: t.Token, LoginID: t.LoginID, ServiceName: t.ServiceName,
		Email: safetext.Cut(in.Email, 254), Name: safetext.Cut(in.Name, 200), Locale: locale}
	switch {
	case err == nil:
		http.Redirect(w, r, "/preregister/sent?email="+url.QueryEscape(in.Email), http.StatusSeeOther)
	case errors.Is(err, legacy.ErrClosed):
		h.closed(w, r, p)
	case errors.Is(err, legacy.ErrBadEmail):
		d.Error = "legacy.register.email.invalid"
		h.renderRegister(w, r, p, http.StatusBadRequest, d)
	case errors.Is(err, legacy.ErrOnePerService):
		h.refused(w, r, p, t.ServiceName)
	default:
		h.d.Renderer.Error(w, r, p, err, "")
	}
}

type refusedData struct {
	ServiceName                string
	HelpdeskURL, HelpdeskEmail string
}

// refused explains the one-login-ID-per-service rule.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, p *i18n.Printer, service string) {
	h.d.Renderer.Render(w, r, http.StatusConflict, "legacy_refused", p, "legacy.refused.title",
		refusedData{ServiceName: service, HelpdeskURL: h.d.HelpdeskURL, HelpdeskEmail: h.d.HelpdeskEmail})
}

func (h *Handler) sent(w http.ResponseWriter, r *http.Request) {
	p := h.d.Printer(r)
	h.d.Renderer.Render(w, r, http.StatusOK, "legacy_sent", p, "legacy.sent.title",
		struct{ Email string }{safetext.Cut(r.URL.Query().Get("email"), 254)})
}

type confirmData struct {
	Token, Email, Name, LoginID, ServiceName string
	Existing                                 bool
	Error                                    string // translated
	MinLength                                int
}

func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	p := h.d.Printer(r)
	token := r.URL.Query().Get("token")
	pd, err := h.d.Service.Open(r.Context(), token)
	if err != nil {
		h.badLink(w, r, p, err)
		return
	}
	h.renderConfirm(w, r, p, http.StatusOK, h.confirmData(token, pd, ""))
}

func (h *Handler) confirmData(token string, pd legacy.Pending, errText string) confirmData {
	return confirmData{Token: token, Email: pd.Registration.Email, Name: pd.Registration.Name, LoginID: pd.Registration.LoginID,
		ServiceName: pd.ServiceName, Existing: pd.Account.ID != "", Error: errText, MinLength: max(h.d.MinLength, pwpolicy.DefaultMinLength)}
}

func (h *Handler) renderConfirm(w http.ResponseWriter, r *http.Request, p *i18n.Printer, status int, d confirmData) {
	h.d.Renderer.Render(w, r, status, "legacy_confirm", p, "legacy.confirm.title", d)
}

func (h *Handler) badLink(w http.ResponseWriter, r *http.Request, p *i18n.Printer, err error) {
	switch {
	case errors.Is(err, legacy.ErrClosed):
		h.closed(w, r, p)
	case errors.Is(err, legacy.ErrLinkUnusable):
		h.d.Renderer.Render(w, r, http.StatusNotFound, "legacy_badlink", p, "legacy.badlink.title", nil)
	default:
		h.d.Renderer.Error(w, r, p, err, "")
	}
}

func (h *Handler) postConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	p := h.d.Printer(r)
	ctx := r.Context()
	token := r.PostFormValue("token")
	pd, err := h.d.Service.Open(ctx, token)
	if err != nil {
		h.badLink(w, r, p, err)
		return
	}
	pw := r.PostFormValue("password")
	var u store.User
	if pd.Account.ID == "" {
		if pw != r.PostFormValue("confirm") {
			h.renderConfirm(w, r, p, http.StatusBadRequest, h.confirmData(token, pd, p.T("legacy.confirm.mismatch")))
			return
		}
		u, err = h.d.Service.CompleteNew(ctx, token, pw, h.meta(r))
	} else {
		// The TOTP code, or else a recovery code (the field beside it).
		code := strings.TrimSpace(r.PostFormValue("code"))
		if code == "" {
			code = strings.TrimSpace(r.PostFormValue("recovery_code"))
		}
		u, err = h.d.Service.CompleteExisting(ctx, token, pw, code, h.meta(r))
	}
	var pe *pwpolicy.Error
	var te *legacy.ThrottledError
	switch {
	case err == nil:
		h.d.Renderer.Render(w, r, http.StatusOK, "legacy_done", p, "legacy.done.title",
			struct{ Email, LoginID, ServiceName string }{u.Email, pd.Registration.LoginID, pd.ServiceName})
	case errors.As(err, &pe):
		h.renderConfirm(w, r, p, http.StatusBadRequest, h.confirmData(token, pd, p.T(pe.Key, pe.Args...)))
	case errors.As(err, &te):
		h.renderConfirm(w, r, p, http.StatusTooManyRequests, h.confirmData(token, pd, p.T("legacy.signin.throttled", FormatTime(te.RetryAt, p.Lang()))))
	case errors.Is(err, legacy.ErrBadCredentials):
		h.renderConfirm(w, r, p, http.StatusUnauthorized, h.confirmData(token, pd, p.T("legacy.confirm.failed")))
	case errors.Is(err, legacy.ErrSecondFactor):
		h.renderConfirm(w, r, p, http.StatusUnauthorized, h.confirmData(token, pd, p.T("legacy.confirm.code")))
	case errors.Is(err, legacy.ErrOnePerService):
		h.refused(w, r, p, pd.ServiceName)
	case errors.Is(err, legacy.ErrAccountExists), errors.Is(err, legacy.ErrNoAccount):
		http.Redirect(w, r, "/preregister/confirm?token="+url.QueryEscape(token), http.StatusSeeOther)
	default:
		h.badLink(w, r, p, err)
	}
}
