// Package account serves a signed-in person's own pages: account settings
// (name and language, password change, email change, active sessions,
// services signed in to, consents) and the usage history of their own
// events.
//
// Every page goes through the hub's guard (hub.Viewer). Every change is
// written together with its audit event in one durable transaction (and
// with its mail, which lands in the outbox of the same transaction);
// session ends, which live in the ephemeral store, are audited right after
// they happen. A POST answers 303 back to the page with a whitelisted
// ?done= key, or re-renders the form with the error (422) having changed
// nothing.
package account

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/customerhub/hubid/internal/safetext"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/store"
)

// Store is the durable storage the pages use outside a transaction;
// store.Durable satisfies it. Writes go through InTx, whose tx is the full
// store.Durable of the backend.
type Store interface {
	GetClient(ctx context.Context, id string) (store.Client, error)
	ListConsentsByUser(ctx context.Context, userID string) ([]store.ConsentGrant, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
	InTx(ctx context.Context, fn func(tx store.Durable) error) error
}

// Guard gives a page its signed-in person (*hub.Guard).
type Guard interface {
	Require(next func(w http.ResponseWriter, r *http.Request, v hub.Viewer)) http.HandlerFunc
}

// Sessions lists a person's live browser sessions (*session.Manager).
type Sessions interface {
	List(ctx context.Context, userID string) ([]store.Session, error)
	Reauthenticated(ctx context.Context, id string, at time.Time) error
}

// Hasher hashes and verifies passwords (*password.Hasher).
type Hasher interface {
	Hash(pw string) (string, error)
	Verify(pw, encoded string) (ok, needsRehash bool, err error)
}

// Limiter throttles password guessing (*throttle.Limiter). The account
// key is the folded email, as at sign-in, so failures here and there
// count together.
type Limiter interface {
	Attempt(ctx context.Context, account, ip string) (throttle.Decision, error)
	Failed(ctx context.Context, account, ip string) error
	Succeed(ctx context.Context, account string) error
}

// Composer renders mail (*mail.Composer).
type Composer interface {
	Compose(kind string, lang language.Tag, to string, data any) (mail.Message, error)
}

// Deps are the pages' collaborators. Now and Logger have defaults; the
// rest are required.
type Deps struct {
	Guard    Guard
	Renderer *web.Renderer
	Store    Store
	Sessions Sessions
	// EndSession ends one browser session by its stored ID and queues the
	// back-channel logouts of its clients. It runs its own transaction, so
	// it is never called inside InTx.
	EndSession func(ctx context.Context, id string) error
	Hasher     Hasher
	Limiter    Limiter
	Policy     pwpolicy.Policy
	// StartEmailChange creates the verification token for newEmail and
	// queues the link (to newEmail) and the notice (to u.Email) inside tx;
	// the address changes only when the link is opened.
	StartEmailChange func(ctx context.Context, tx store.Durable, u store.User, newEmail string, lang language.Tag) error
	// Composer renders the "your password was changed" notice, which is
	// queued with mail.Enqueue in the change's transaction.
	Composer Composer
	// TwoStep is two-step verification (*mfa.Service); nil hides it.
	TwoStep TwoStep
	// PendingTOTP keeps (or, with nil, drops) a two-step setup in
	// progress on a session (session.Manager.SetPendingTOTP); required
	// with TwoStep.
	PendingTOTP func(ctx context.Context, sessionID string, p *store.PendingTOTP) error
	// Proxies are the trusted proxies, for the client IP of audit events.
	Proxies []netip.Prefix
	Now     func() time.Time
	Logger  *slog.Logger
}

// Handler serves the account pages.
type Handler struct{ d Deps }

// New returns the handler. A missing required dependency is a wiring
// mistake: New panics, so it shows at start-up rather than on a page.
func New(d Deps) *Handler {
	for name, missing := range map[string]bool{
		"Guard": d.Guard == nil, "Renderer": d.Renderer == nil, "Store": d.Store == nil,
		"Sessions": d.Sessions == nil, "EndSession": d.EndSession == nil, "Hasher": d.Hasher == nil,
		"Limiter": d.Limiter == nil, "StartEmailChange": d.StartEmailChange == nil, "Composer": d.Composer == nil,
		"PendingTOTP (with TwoStep)": d.TwoStep != nil && d.PendingTOTP == nil,
	} {
		if missing {
			panic("account: Deps." + name + " is required")
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

// Mount registers the pages on mux, which the caller wraps with
// web.Protect (CSRF, CSP) like every page.
func (h *Handler) Mount(mux *http.ServeMux) {
	g := h.d.Guard
	mux.HandleFunc("GET /account", g.Require(h.overview))
	mux.HandleFunc("POST /account/profile", g.Require(h.postProfile))
	mux.HandleFunc("GET /account/password", g.Require(h.passwordPage))
	mux.HandleFunc("POST /account/password", g.Require(h.postPassword))
	mux.HandleFunc("GET /account/email", g.Require(h.emailPage))
	mux.HandleFunc("POST /account/email", g.Require(h.postEmail))
	mux.HandleFunc("POST /account/sessions/{id}/end", g.Require(h.postEndSession))
	mux.HandleFunc("POST /account/sessions/end-others", g.Require(h.postEndOthers))
	mux.HandleFunc("POST /account/consents/{client}/revoke", g.Require(h.postRevokeConsent))
	mux.HandleFunc("GET /account/history", g.Require(h.history))
	h.mountMFA(mux)
}

// Audit event kinds written here.
const (
	KindProfileUpdated       = "profile.updated"
	KindPasswordChanged      = "password.changed"
	KindPasswordChangeFailed = "password.change.failed"
	KindEmailChangeRequested = "email.change.requested"
	KindEmailChangeFailed    = "email.change.failed"
	KindSessionEnded         = "session.ended"
	KindSessionsEnded        = "sessions.ended"
	KindConsentRevoked       = "consent.revoked"
)

// doneKeys are the flash messages a ?done= may name; anything else is
// ignored, so a link cannot make the page say something else.
var doneKeys = map[string]string{
	"profile":          "account.done.profile",
	"password":         "account.done.password",
	"password-partial": "account.done.password.partial",
	"email":            "account.done.email",
	"session":          "account.done.session",
	"others":           "account.done.others",
	"consent":          "account.done.consent",
	"mfa-off":          "mfa.done.off",
}

// back answers a successful POST: 303 to path with the flash key.
func back(w http.ResponseWriter, r *http.Request, path, done string) {
	http.Redirect(w, r, path+"?"+url.Values{"done": {done}}.Encode(), http.StatusSeeOther)
}

// navItem is one link of the account sub-navigation.
type navItem struct {
	URL, Key string
	Current  bool
}

// nav is the sub-navigation shown on every account page.
func nav(current string) []navItem {
	items := []navItem{
		{URL: "/", Key: "account.nav.home"},
		{URL: "/account", Key: "account.nav.settings"},
		{URL: "/account/history", Key: "account.nav.history"},
	}
	for i := range items {
		items[i].Current = items[i].URL == current
	}
	return items
}

// page is embedded in every page's data.
type page struct{ Nav []navItem }

// WideLayout asks for the wide card (.card.wide): the tables need more
// than the sign-in pages' width. The layout honours it once web.Page
// reads it; until then the pages fit the narrow card too.
func (page) WideLayout() bool { return true }

// event is an audit event of the viewer about themself, from this request.
func (h *Handler) event(r *http.Request, v hub.Viewer, kind string, detail map[string]string) store.AuditEvent {
	return store.AuditEvent{
		Time: h.d.Now(), Kind: kind, ActorID: v.User.ID, UserID: v.User.ID,
		IP: throttle.ClientIP(r, h.d.Proxies), UserAgent: safetext.Cut(r.UserAgent(), 256), Detail: detail,
	}
}

// auditNow appends an event outside a transaction (for changes of
// ephemeral state, which has none); a failure is logged, not shown: the
// change it describes has already happened.
func (h *Handler) auditNow(r *http.Request, e store.AuditEvent) {
	if _, err := h.d.Store.AppendAudit(r.Context(), e); err != nil {
		h.d.Logger.ErrorContext(r.Context(), "audit", slog.String("kind", e.Kind), slog.Any("err", err))
	}
}

// mailLang is the language of mail to the viewer: the account's setting,
// else the page's.
func (h *Handler) mailLang(v hub.Viewer) language.Tag {
	if v.User.Locale != "" {
		return h.d.Renderer.Bundle.Match(v.User.Locale)
	}
	return v.P.Tag
}

// formatTime renders t in the page's language (the layout is itself a
// message, "account.timefmt"), always in UTC, which the layout names.
func formatTime(p *i18n.Printer, t time.Time) string {
	return t.UTC().Format(p.T("account.timefmt"))
}

// formatDate renders the date of t in the page's language, in UTC.
func formatDate(p *i18n.Printer, t time.Time) string {
	return t.UTC().Format(p.T("account.datefmt"))
}

// isoTime is the machine-readable form for <time datetime>.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// deviceName is the short, translated name of a User-Agent, e.g. "Chrome
// on Windows".
func deviceName(p *i18n.Printer, ua string) string {
	d := ParseUserAgent(ua)
	switch {
	case d.Browser != "" && d.OS != "":
		return p.T("account.device", d.Browser, d.OS)
	case d.Browser != "":
		return d.Browser
	case d.OS != "":
		return p.T("account.device.os", d.OS)
	}
	return p.T("account.device.unknown")
}
