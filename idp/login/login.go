// Package login is hubid's sign-in UI: identifier-first pages (email, then
// password with "automatically sign in next time"), the SSO decision for a
// pending authorization request (prompt, max_age, id_token_hint), the
// entitlement check, and the logout confirmation page. It talks to the
// OIDC library only through the callbacks in Deps.
package login

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/customerhub/hubid/internal/safetext"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// AuthRequests is the pending-request storage the UI needs.
type AuthRequests interface {
	CreateAuthRequest(ctx context.Context, r store.AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, id string, fn func(*store.AuthRequest) error) (store.AuthRequest, error)
}

// Directory is the durable storage the UI reads and writes.
type Directory interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetUserByEmail(ctx context.Context, email string) (store.User, error)
	UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error)
	GetClient(ctx context.Context, id string) (store.Client, error)
	ListClients(ctx context.Context) ([]store.Client, error)
	GetService(ctx context.Context, id string) (store.Service, error)
	orgs.ClaimStore
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
}

// Hasher verifies passwords (password.Hasher).
type Hasher interface {
	Hash(pw string) (string, error)
	Verify(pw, encoded string) (ok, needsRehash bool, err error)
	DummyVerify(pw string)
}

// Deps are the UI's collaborators.
type Deps struct {
	AuthRequests AuthRequests
	Directory    Directory
	Sessions     *session.Manager
	Limiter      *throttle.Limiter
	Hasher       Hasher
	Renderer     *web.Renderer
	Proxies      []netip.Prefix
	// CallbackURL is where a finished auth request continues (op's
	// /authorize/callback?id=).
	CallbackURL func(authRequestID string) string
	// LoginRequired answers prompt=none without a usable session with
	// login_required to the client's redirect URI.
	LoginRequired func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest)
	// AccountSelectionRequired answers prompt=none when the person would
	// have to choose an organization (account_selection_required).
	AccountSelectionRequired func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest)
	// EndSession ends a browser session (and notifies its clients).
	EndSession func(ctx context.Context, sessionID string) error
	// Consent, when set, runs before a request completes
	// (consentui.(*Handler).Check), given the request's client as read for
	// the entitlement check; true means it has answered.
	Consent func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session, c store.Client) bool
	// TwoStep is two-step verification (*mfa.Service); nil: password only.
	TwoStep TwoStep
	// TwoStepACR is the acr value a client sends in acr_values to require
	// the second step (a step-up from an SSO session without it).
	TwoStepACR string
	// Preregister, when set and true, links the email page to the legacy
	// login ID pre-registration (its window is open).
	Preregister func() bool
	// LegacyLoginID, when set, tells what someone who typed something other
	// than an address into the email box is to be told (legacy.go).
	LegacyLoginID func(ctx context.Context, typed string) LegacyHint
	// Helpdesk is the contact named to people whose login ID no longer
	// signs in ("" names their organization's administrator).
	Helpdesk string
	// AuthRequestTTL bounds a hub sign-in (/signin) like an OIDC one.
	AuthRequestTTL time.Duration
	Rand           io.Reader
	Now            func() time.Time
	Logger         *slog.Logger
}

// Handler serves the sign-in and logout pages.
type Handler struct{ d Deps }

// New returns the UI handler.
func New(d Deps) *Handler { return &Handler{d: d} }

// Mount registers the pages on mux (wrapped with web.Protect by the caller).
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /signin", h.hubSignIn)
	mux.HandleFunc("GET /login", h.start)
	mux.HandleFunc("POST /login/email", h.postEmail)
	mux.HandleFunc("GET /login/password", h.passwordPage)
	mux.HandleFunc("POST /login/password", h.postPassword)
	mux.HandleFunc("POST /login/org", h.postOrg)
	mux.HandleFunc("GET /logout", h.logoutPage)
	mux.HandleFunc("POST /logout", h.postLogout)
	mux.HandleFunc("GET /logged-out", h.loggedOut)
	h.mountSecondStep(mux)
}

// printer is the language of a page of the sign-in ar: once the email
// step is done (or the client named the person with id_token_hint), the
// person's own (i18n.Bundle.ForPerson), so that the sign-in pages, the
// consent page and the mail agree; before it, the switcher, ui_locales
// and the browser's.
func (h *Handler) printer(r *http.Request, ar *store.AuthRequest) *i18n.Printer {
	var prefs []string
	locale := ""
	if ar != nil {
		prefs = append(prefs, strings.Join(ar.UILocales, " "))
		locale = h.accountLocale(r.Context(), *ar)
	}
	b := h.d.Renderer.Bundle
	return b.Printer(b.ForPerson(r, locale, prefs...))
}

// emailPrinter is the language of the email page, where the person is not
// known yet (a login_hint from the client does not count).
func (h *Handler) emailPrinter(r *http.Request, ar store.AuthRequest) *i18n.Printer {
	return h.printer(r, &store.AuthRequest{UILocales: ar.UILocales})
}

// accountLocale is the language setting of the person ar is for: the one
// the client named, else the one whose address was typed. An unknown
// address has none, and its pages follow the browser.
func (h *Handler) accountLocale(ctx context.Context, ar store.AuthRequest) string {
	var u store.User
	var err error
	switch {
	case ar.UserID != "":
		u, err = h.d.Directory.GetUser(ctx, ar.UserID)
	case ar.LoginHint != "":
		u, err = h.d.Directory.GetUserByEmail(ctx, ar.LoginHint)
	default:
		return ""
	}
	if err != nil {
		return ""
	}
	return u.Locale
}

// loadRequest loads the pending request named in the query or form; on
// failure it renders the error page and returns false.
func (h *Handler) loadRequest(w http.ResponseWriter, r *http.Request) (store.AuthRequest, bool) {
	id := r.FormValue("authRequestID")
	if id == "" || len(id) > 128 {
		h.d.Renderer.Error(w, r, h.printer(r, nil), apperr.New(apperr.Invalid, "missing auth request"), "error.badrequest")
		return store.AuthRequest{}, false
	}
	ar, err := h.d.AuthRequests.GetAuthRequest(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.d.Renderer.Error(w, r, h.printer(r, nil), apperr.Wrap(apperr.NotFound, "auth request expired", err), "error.expired")
		return ar, false
	}
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, nil), err, "")
		return ar, false
	}
	if ar.Done {
		// Back button after finishing: the request cannot be reused.
		h.d.Renderer.Error(w, r, h.printer(r, &ar), apperr.New(apperr.Invalid, "auth request already finished"), "error.expired")
		return ar, false
	}
	return ar, true
}

// needsLogin reports whether a live session cannot be used as is for ar.
func (h *Handler) needsLogin(ar store.AuthRequest, s store.Session) bool {
	if slices.Contains(ar.Prompt, "login") {
		return true
	}
	if ar.MaxAge != nil && h.d.Now().Sub(s.AuthTime) > time.Duration(*ar.MaxAge)*time.Second {
		return true
	}
	// id_token_hint names another person than the session's.
	return ar.UserID != "" && ar.UserID != s.UserID
}

// start is the client's login URL: SSO when possible, else the email page.
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return
	}
	s, live, err := h.usableSession(w, r)
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	usable := live && !h.needsLogin(ar, s)
	if slices.Contains(ar.Prompt, "none") && !usable {
		h.d.LoginRequired(w, r, ar)
		return
	}
	if usable && r.FormValue("change") == "" {
		h.finish(w, r, ar, s)
		return
	}
	email := ar.LoginHint
	h.renderEmail(w, r, ar, email, "")
}

// usableSession returns the browser's live session; live is false when
// there is none or it no longer signs anyone in: a session of a disabled
// or deleted account, or one that began before the password last changed,
// is ended.
func (h *Handler) usableSession(w http.ResponseWriter, r *http.Request) (store.Session, bool, error) {
	s, live, err := h.d.Sessions.Current(r.Context(), w, r)
	if err != nil || !live || s.UserID == "" {
		return s, live, err
	}
	u, err := h.d.Directory.GetUser(r.Context(), s.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return s, false, err
	}
	if err != nil || u.Disabled || session.Stale(s, u) {
		if err := h.d.EndSession(r.Context(), s.ID); err != nil {
			h.d.Logger.WarnContext(r.Context(), "end stale session", slog.Any("err", err))
		}
		h.d.Sessions.Clear(w)
		return s, false, nil
	}
	return s, true, nil
}

type emailData struct {
	AuthRequestID, ClientName, Email, Error string
	Preregister                             bool
	// Legacy is set when what was typed is a legacy login ID.
	Legacy   LegacyHint
	Helpdesk string
}

func (h *Handler) clientName(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	c, err := h.d.Directory.GetClient(ctx, id)
	if err != nil {
		return ""
	}
	return c.Name
}

func (h *Handler) renderEmail(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, email, errKey string) {
	h.renderEmailHint(w, r, ar, email, errKey, NoLegacyHint)
}

func (h *Handler) renderEmailHint(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, email, errKey string, hint LegacyHint) {
	status := http.StatusOK
	if errKey != "" {
		status = http.StatusBadRequest
	}
	h.d.Renderer.Render(w, r, status, "signin_email", h.emailPrinter(r, ar), "signin.title",
		emailData{AuthRequestID: ar.ID, ClientName: h.clientName(r.Context(), ar.ClientID), Email: email, Error: errKey,
			Preregister: h.d.Preregister != nil && h.d.Preregister(), Legacy: hint, Helpdesk: h.d.Helpdesk})
}

// Finish completes ar with session s (entitlement, consent, callback);
// the consent page calls it once consent is given.
func (h *Handler) Finish(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session) {
	h.finish(w, r, ar, s)
}

// finish completes ar with session s and continues to the callback.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session) {
	ctx := r.Context()
	person := ar
	person.UserID = s.UserID // the pages after this are the signed-in person's
	// The person's language is read only for a page: a sign-on that goes
	// straight on to the callback renders none.
	p := func() *i18n.Printer { return h.printer(r, &person) }
	if step, err := h.needsSecondStep(ctx, ar, s); err != nil {
		h.d.Renderer.Error(w, r, p(), err, "")
		return
	} else if step {
		h.stepUp(w, r, ar, s)
		return
	}
	orgID := ""
	var c store.Client
	if ar.ClientID != "" { // a hub sign-in has no service and selects nothing
		var a orgs.Access
		var err error
		c, a, err = h.access(ctx, ar.ClientID, s.UserID)
		if err != nil {
			h.d.Renderer.Error(w, r, p(), err, "")
			return
		}
		if !a.Entitled() {
			h.audit(ctx, r, "signin.denied", s.UserID, ar.ClientID, map[string]string{"reason": "organization not entitled"})
			h.notEntitled(w, r, p(), c, s.UserID)
			return
		}
		var ok bool
		if orgID, ok = h.selectOrg(w, r, ar, s, c, a); !ok {
			return
		}
	}
	if h.d.Consent != nil && ar.ClientID != "" && h.d.Consent(w, r, ar, s, c) {
		return
	}
	_, err := h.d.AuthRequests.UpdateAuthRequest(ctx, ar.ID, func(a *store.AuthRequest) error {
		if a.Done {
			return apperr.New(apperr.Invalid, "auth request already finished")
		}
		a.Done, a.UserID, a.SessionID, a.AuthTime, a.AMR = true, s.UserID, s.ID, s.AuthTime, s.AMR
		a.OrgID = orgID
		return nil
	})
	if err != nil {
		h.d.Renderer.Error(w, r, p(), err, "error.expired")
		return
	}
	if ar.ClientID == "" {
		// A hub sign-in: back to the hub page it came from.
		http.Redirect(w, r, LocalPath(ar.RedirectURI), http.StatusSeeOther)
		return
	}
	if s.AuthTime.Before(ar.CreatedAt) {
		// Single sign-on: the session signed in before this request.
		h.audit(ctx, r, KindSignInSSO, s.UserID, ar.ClientID, nil)
	}
	if _, err := h.d.Sessions.SignedInto(ctx, s, ar.ClientID, orgID); err != nil {
		h.d.Logger.WarnContext(ctx, "record client and organization in session", slog.Any("err", err))
	}
	http.Redirect(w, r, h.d.CallbackURL(ar.ID), http.StatusSeeOther)
}

func (h *Handler) audit(ctx context.Context, r *http.Request, kind, userID, clientID string, detail map[string]string) {
	if userID == "" {
		return
	}
	_, err := h.d.Directory.AppendAudit(ctx, store.AuditEvent{
		Time: h.d.Now(), Kind: kind, ActorID: userID, UserID: userID, ClientID: clientID,
		IP: throttle.ClientIP(r, h.d.Proxies), UserAgent: safetext.Cut(r.UserAgent(), 256), Detail: detail,
	})
	if err != nil {
		h.d.Logger.WarnContext(ctx, "audit", slog.String("kind", kind), slog.Any("err", err))
	}
}

// LocalPath returns p if it is a path on this host ("/…", not "//…" or
// "/\\…"), else "/": a return address can never leave hubid.
func LocalPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	if u, err := url.Parse(p); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return p
}

// hubSignIn starts a sign-in for the hub's own pages: an auth request
// without a client, whose "redirect" is the local page to return to.
func (h *Handler) hubSignIn(w http.ResponseWriter, r *http.Request) {
	ret := LocalPath(r.FormValue("return"))
	if s, live, err := h.d.Sessions.Current(r.Context(), w, r); err == nil && live && s.UserID != "" {
		http.Redirect(w, r, ret, http.StatusSeeOther)
		return
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(h.d.Rand, b); err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, nil), err, "")
		return
	}
	now := h.d.Now()
	ar := store.AuthRequest{ID: base64.RawURLEncoding.EncodeToString(b), RedirectURI: ret,
		LoginHint: r.FormValue("login_hint"), CreatedAt: now, ExpiresAt: now.Add(h.d.AuthRequestTTL)}
	if err := h.d.AuthRequests.CreateAuthRequest(r.Context(), ar); err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, nil), err, "")
		return
	}
	http.Redirect(w, r, "/login?authRequestID="+url.QueryEscape(ar.ID), http.StatusSeeOther)
}
