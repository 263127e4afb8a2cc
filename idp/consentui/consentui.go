// Package consentui is the page that asks a person to let a third-party
// service use their data ("NK-PASS is asking for: • Your email address …")
// before a pending authorization request completes.
//
// The flow: the sign-in UI, once it has a usable session and the
// organization is entitled, calls (*Handler).Check before it completes the
// request. When consent.Decide says nothing is missing, Check returns
// false and sign-in completes as before. Otherwise Check marks the pending
// request with the session's user and session (UserID, SessionID, without
// Done) and answers 303 to GET /consent?authRequestID=, or, for
// prompt=none, calls ConsentRequired (consent_required to the client).
//
// The page and its POST only answer for a request so marked, and only for
// a browser whose live session belongs to the marked user: another
// person's session gets 403 and nothing is stored. Allow remembers the
// scopes (consent.Remember) with a consent.granted audit event in one
// durable transaction, then calls Continue (the sign-in UI's finish) with
// the current session; Check returns false for the request while Continue
// runs, so prompt=consent does not ask twice. Deny records consent.denied,
// deletes the pending request and calls Deny (access_denied to the
// client).
//
// Pages are rendered with web's layout in English or Japanese, work
// without JavaScript, are wrapped with web.Protect (CSRF, CSP) by the
// caller, and every POST answers 303.
package consentui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/consent"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/store"
)

// Audit event kinds written here.
const (
	KindConsentGranted = "consent.granted"
	KindConsentDenied  = "consent.denied"
)

// AuthRequests is the pending-request storage the page needs.
type AuthRequests interface {
	GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, id string, fn func(*store.AuthRequest) error) (store.AuthRequest, error)
	DeleteAuthRequest(ctx context.Context, id string) error
}

// Store is the durable storage the page reads outside a transaction;
// store.Durable satisfies it. Grants are written through InTx.
type Store interface {
	GetClient(ctx context.Context, id string) (store.Client, error)
	GetUser(ctx context.Context, id string) (store.User, error)
	GetConsent(ctx context.Context, userID, clientID string) (store.ConsentGrant, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
	InTx(ctx context.Context, fn func(tx store.Durable) error) error
}

// Sessions finds the browser's live session (*session.Manager).
type Sessions interface {
	Current(ctx context.Context, w http.ResponseWriter, r *http.Request) (store.Session, bool, error)
}

// Answer answers a pending request for the client (an OAuth error on its
// redirect URI).
type Answer func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest)

// Deps are the page's collaborators. Proxies, Now and Logger are optional;
// the rest are required.
type Deps struct {
	AuthRequests AuthRequests
	Store        Store
	Sessions     Sessions
	Renderer     *web.Renderer
	// Deny answers access_denied to the client.
	Deny Answer
	// ConsentRequired answers consent_required to the client (prompt=none
	// when consent is missing).
	ConsentRequired Answer
	// Continue completes ar with session s once consent is given (the
	// sign-in UI's finish; it may call Check again, which then passes).
	Continue func(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session)
	Proxies  []netip.Prefix // trusted proxies, for the audited IP
	Now      func() time.Time
	Logger   *slog.Logger
}

// Handler serves the consent page.
type Handler struct{ d Deps }

// New returns the consent page handler; it panics when a required
// dependency is missing.
func New(d Deps) *Handler {
	for name, missing := range map[string]bool{
		"AuthRequests": d.AuthRequests == nil, "Store": d.Store == nil, "Sessions": d.Sessions == nil,
		"Renderer": d.Renderer == nil, "Deny": d.Deny == nil, "ConsentRequired": d.ConsentRequired == nil,
		"Continue": d.Continue == nil,
	} {
		if missing {
			panic("consentui: Deps." + name + " is required")
		}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Handler{d: d}
}

// Path is the consent page.
const Path = "/consent"

// Mount registers the page on mux (wrapped with web.Protect by the caller).
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Path, h.page)
	mux.HandleFunc("POST "+Path, h.post)
}

// givenKey marks a request context in which consent for one auth request
// (the value, its ID) has just been given.
type givenKey struct{}

// Check decides whether ar, about to be completed with session s, needs
// the person's consent first. It returns false when it does not (a hub
// sign-in, a first-party client, scopes already granted, or consent just
// given on this page); the caller then completes the request. Otherwise it
// has answered (303 to the consent page, consent_required for
// prompt=none, or an error page) and returns true. c is ar's client as
// the caller has read it (the sign-in reads it for the entitlement check);
// any other value is read again.
func (h *Handler) Check(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session, c store.Client) (handled bool) {
	if ar.ClientID == "" {
		return false // the hub's own sign-in
	}
	if id, _ := r.Context().Value(givenKey{}).(string); id == ar.ID {
		return false
	}
	ctx := r.Context()
	var d consent.Decision
	var err error
	if c.ID == ar.ClientID {
		d, err = h.decideFor(ctx, ar, s.UserID, c)
	} else {
		d, _, err = h.decide(ctx, ar, s.UserID)
	}
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar, nil), err, "")
		return true
	}
	if !d.Needed {
		return false
	}
	if slices.Contains(ar.Prompt, "none") {
		h.d.ConsentRequired(w, r, ar)
		return true
	}
	_, err = h.d.AuthRequests.UpdateAuthRequest(ctx, ar.ID, func(a *store.AuthRequest) error {
		if a.Done {
			return apperr.New(apperr.Invalid, "auth request already finished")
		}
		a.UserID, a.SessionID = s.UserID, s.ID
		return nil
	})
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar, nil), err, "error.expired")
		return true
	}
	http.Redirect(w, r, pageURL(ar.ID), http.StatusSeeOther)
	return true
}

func pageURL(authRequestID string) string {
	return Path + "?" + url.Values{"authRequestID": {authRequestID}}.Encode()
}

// decide loads the client and the person's grant and decides.
func (h *Handler) decide(ctx context.Context, ar store.AuthRequest, userID string) (consent.Decision, store.Client, error) {
	c, err := h.d.Store.GetClient(ctx, ar.ClientID)
	if err != nil {
		return consent.Decision{}, c, apperr.Wrap(apperr.CodeOf(err), "load client", err)
	}
	d, err := h.decideFor(ctx, ar, userID, c)
	return d, c, err
}

// decideFor loads the person's grant for client c and decides.
func (h *Handler) decideFor(ctx context.Context, ar store.AuthRequest, userID string, c store.Client) (consent.Decision, error) {
	if c.FirstParty {
		return consent.Decision{}, nil
	}
	var grant *store.ConsentGrant
	g, err := h.d.Store.GetConsent(ctx, userID, c.ID)
	switch {
	case err == nil:
		grant = &g
	case !errors.Is(err, store.ErrNotFound):
		return consent.Decision{}, apperr.Wrap(apperr.CodeOf(err), "load consent", err)
	}
	return consent.Decide(c, grant, ar.Scopes, ar.Prompt), nil
}

// printer negotiates the language like the sign-in pages
// (i18n.Bundle.ForPerson): the switcher cookie, then the person's
// setting, then ui_locales, then Accept-Language.
func (h *Handler) printer(r *http.Request, ar *store.AuthRequest, u *store.User) *i18n.Printer {
	var prefs []string
	if ar != nil {
		prefs = append(prefs, strings.Join(ar.UILocales, " "))
	}
	locale := ""
	if u != nil {
		locale = u.Locale
	}
	b := h.d.Renderer.Bundle
	return b.Printer(b.ForPerson(r, locale, prefs...))
}

// pending is a consent request the current browser may answer.
type pending struct {
	ar   store.AuthRequest
	s    store.Session
	user store.User
	p    *i18n.Printer
}

// load finds the pending request named in the query or form and checks the
// browser's session may answer it. On failure it has answered (an error
// page, or a redirect to sign in again) and returns false.
func (h *Handler) load(w http.ResponseWriter, r *http.Request) (pending, bool) {
	ctx := r.Context()
	id := r.FormValue("authRequestID")
	if id == "" || len(id) > 128 {
		h.d.Renderer.Error(w, r, h.printer(r, nil, nil), apperr.New(apperr.Invalid, "missing auth request"), "error.badrequest")
		return pending{}, false
	}
	ar, err := h.d.AuthRequests.GetAuthRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		h.d.Renderer.Error(w, r, h.printer(r, nil, nil), apperr.Wrap(apperr.NotFound, "auth request expired", err), "error.expired")
		return pending{}, false
	}
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, nil, nil), err, "")
		return pending{}, false
	}
	if ar.Done || ar.SessionID == "" || ar.UserID == "" || ar.ClientID == "" {
		// Finished (back button), or never sent here by Check.
		h.d.Renderer.Error(w, r, h.printer(r, &ar, nil), apperr.New(apperr.Invalid, "no consent pending"), "error.expired")
		return pending{}, false
	}
	s, live, err := h.d.Sessions.Current(ctx, w, r)
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar, nil), err, "")
		return pending{}, false
	}
	if !live || s.UserID == "" {
		// Signed out meanwhile: sign in again, which comes back here.
		http.Redirect(w, r, "/login?"+url.Values{"authRequestID": {ar.ID}}.Encode(), http.StatusSeeOther)
		return pending{}, false
	}
	if s.UserID != ar.UserID {
		h.d.Renderer.Error(w, r, h.printer(r, &ar, nil), apperr.New(apperr.Forbidden, "consent asked of another user"), "error.forbidden")
		return pending{}, false
	}
	u, err := h.d.Store.GetUser(ctx, s.UserID)
	if err != nil || u.Disabled {
		if err == nil {
			err = apperr.New(apperr.Forbidden, "user disabled")
		}
		h.d.Renderer.Error(w, r, h.printer(r, &ar, nil), err, "")
		return pending{}, false
	}
	return pending{ar: ar, s: s, user: u, p: h.printer(r, &ar, &u)}, true
}

// scopeItem is one line of the list: a message key and, for KeyOther, the
// scope's name.
type scopeItem struct{ Key, Arg string }

type pageData struct {
	AuthRequestID string
	ClientName    string
	Email         string
	Scopes        []scopeItem
	ScopeList     string // the scopes shown, space-separated, posted back
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	pd, ok := h.load(w, r)
	if !ok {
		return
	}
	d, c, err := h.decide(r.Context(), pd.ar, pd.user.ID)
	if err != nil {
		h.d.Renderer.Error(w, r, pd.p, err, "")
		return
	}
	if !d.Needed {
		// Granted meanwhile (another tab): nothing to ask.
		h.d.Continue(w, h.given(r, pd.ar.ID), pd.ar, pd.s)
		return
	}
	data := pageData{AuthRequestID: pd.ar.ID, ClientName: c.Name, Email: pd.user.Email, ScopeList: strings.Join(d.Missing, " ")}
	if data.ClientName == "" {
		data.ClientName = c.ID
	}
	for _, s := range d.Missing {
		it := scopeItem{Key: consent.ScopeKey(s)}
		if it.Key == consent.KeyOther {
			it.Arg = s
		}
		data.Scopes = append(data.Scopes, it)
	}
	h.d.Renderer.Render(w, r, http.StatusOK, "consent", pd.p, "consent.title", data)
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	decision := r.PostFormValue("decision")
	if decision != "allow" && decision != "deny" {
		h.d.Renderer.Error(w, r, h.printer(r, nil, nil), apperr.New(apperr.Invalid, "unknown decision"), "error.badrequest")
		return
	}
	pd, ok := h.load(w, r)
	if !ok {
		return
	}
	if decision == "deny" {
		h.deny(w, r, pd)
		return
	}
	ctx := r.Context()
	d, _, err := h.decide(ctx, pd.ar, pd.user.ID)
	if err != nil {
		h.d.Renderer.Error(w, r, pd.p, err, "")
		return
	}
	// Only what the page showed may be granted: when more is missing now
	// (revoked meanwhile), show the page again.
	shown := strings.Fields(r.PostFormValue("scopes"))
	for _, s := range d.Missing {
		if !slices.Contains(shown, s) {
			http.Redirect(w, r, pageURL(pd.ar.ID), http.StatusSeeOther)
			return
		}
	}
	if d.Needed {
		err = h.d.Store.InTx(ctx, func(tx store.Durable) error {
			if err := consent.Remember(ctx, tx, pd.user.ID, pd.ar.ClientID, d.Missing, h.d.Now()); err != nil {
				return err
			}
			_, err := tx.AppendAudit(ctx, h.event(r, pd, KindConsentGranted, map[string]string{"scopes": strings.Join(d.Missing, " ")}))
			return err
		})
		if err != nil {
			h.d.Renderer.Error(w, r, pd.p, err, "")
			return
		}
	}
	h.d.Continue(w, h.given(r, pd.ar.ID), pd.ar, pd.s)
}

// deny ends the request: audited, deleted (so the back button cannot
// allow it afterwards), access_denied to the client.
func (h *Handler) deny(w http.ResponseWriter, r *http.Request, pd pending) {
	ctx := r.Context()
	if _, err := h.d.Store.AppendAudit(ctx, h.event(r, pd, KindConsentDenied, nil)); err != nil {
		h.d.Logger.WarnContext(ctx, "audit", slog.String("kind", KindConsentDenied), slog.Any("err", err))
	}
	if err := h.d.AuthRequests.DeleteAuthRequest(ctx, pd.ar.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.d.Logger.WarnContext(ctx, "delete denied auth request", slog.Any("err", err))
	}
	h.d.Deny(w, r, pd.ar)
}

// given returns r marked so that Check passes for authRequestID.
func (h *Handler) given(r *http.Request, authRequestID string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), givenKey{}, authRequestID))
}

func (h *Handler) event(r *http.Request, pd pending, kind string, detail map[string]string) store.AuditEvent {
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return store.AuditEvent{
		Time: h.d.Now(), Kind: kind, ActorID: pd.user.ID, UserID: pd.user.ID, ClientID: pd.ar.ClientID,
		IP: throttle.ClientIP(r, h.d.Proxies), UserAgent: ua, Detail: detail,
	}
}
