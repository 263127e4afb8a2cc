// Package console serves the organization console (/console/...) and the
// pages an invitation link opens (orgs.AcceptPath): a thin adapter over
// the organizations service (orgs), two-step verification (mfa) and the
// legacy login IDs (legacy). It parses, authorizes, calls and renders;
// every rule (the permission matrix, the last administrator, invitations,
// linking rules) stays in those services.
//
// Every console request is checked on the server: the viewer must be an
// administrator of the organization in the path (orgs.Service.Authorize),
// else the answer is 403 and nothing of the organization is read. An
// organization that does not exist gets the same 403, so the console says
// nothing of other organizations.
package console

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/internal/safetext"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Templates are the console's pages; pass them to web.NewRenderer.
//
//go:embed templates/*.html
var Templates embed.FS

// Store is what the pages read directly: names for the history and the
// services an organization may apply for (store.Durable satisfies it).
type Store interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetUserByEmail(ctx context.Context, email string) (store.User, error)
	GetClient(ctx context.Context, id string) (store.Client, error)
	ListServices(ctx context.Context) ([]store.Service, error)
	ListEntitlementsByOrg(ctx context.Context, orgID string) ([]store.Entitlement, error)
}

// Deps are the console's collaborators.
type Deps struct {
	Guard    *hub.Guard
	Sessions *session.Manager
	Renderer *web.Renderer
	Orgs     *orgs.Service
	TwoStep  *mfa.Service
	Legacy   *legacy.Service
	Store    Store
	Proxies  []netip.Prefix
	// MinLength is the password policy's, for the new-account form's hint.
	MinLength int
	Logger    *slog.Logger
}

// Handler serves the console and the invitation pages.
type Handler struct{ d Deps }

// New returns the handler.
func New(d Deps) *Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// Mount registers the pages; the caller wraps them with web.Protect (CSP,
// CSRF) and the form reader.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /console", h.d.Guard.Require(h.list))
	mux.HandleFunc("GET /console/{$}", h.d.Guard.Require(h.list))
	org := func(path string, action orgs.Action, fn orgHandler) {
		mux.HandleFunc(path, h.d.Guard.Require(h.inOrg(action, fn)))
	}
	m := orgs.ActManageMembers
	org("GET /console/{org}", m, h.members)
	org("GET /console/{org}/{$}", m, h.members)
	org("GET /console/{org}/members", m, h.members)
	org("POST /console/{org}/members/{user}/role", m, h.postRole)
	org("GET /console/{org}/members/{user}/remove", m, h.removeForm)
	org("POST /console/{org}/members/{user}/remove", m, h.postRemove)
	org("POST /console/{org}/members/{user}/mfa-reset", m, h.postMFAReset)
	org("GET /console/{org}/invitations", m, h.invitations)
	org("POST /console/{org}/invitations", m, h.postInvite)
	org("POST /console/{org}/invitations/{id}/resend", m, h.postResend)
	org("POST /console/{org}/invitations/{id}/cancel", m, h.postCancel)
	org("GET /console/{org}/history", m, h.history)
	org("GET /console/{org}/applications", orgs.ActApplyService, h.applications)
	org("POST /console/{org}/applications", orgs.ActApplyService, h.postApply)
	org("GET /console/{org}/security", m, h.security)
	org("POST /console/{org}/security", m, h.postSecurity)
	org("GET /console/{org}/legacy", m, h.legacyIDs)
	org("POST /console/{org}/legacy/link", m, h.postLink)
	org("POST /console/{org}/legacy/unlink", m, h.postUnlink)
	mux.HandleFunc("GET "+orgs.AcceptPath, h.accept)
	mux.HandleFunc("POST "+orgs.AcceptPath, h.postAccept)
}

// Paths lists the path patterns the caller routes to Mount's mux.
var Paths = []string{"/console", "/console/", orgs.AcceptPath}

// req is one console request in an organization the viewer administers.
type req struct {
	v   hub.Viewer
	org store.Organization
}

func (q req) actor() orgs.Actor { return orgs.Person(q.v.User.ID) }

type orgHandler func(w http.ResponseWriter, r *http.Request, q req)

// inOrg resolves the organization of the path and authorizes the viewer
// for action in it, on every request; anything else is 403, the same for
// an organization that does not exist.
func (h *Handler) inOrg(action orgs.Action, fn orgHandler) func(http.ResponseWriter, *http.Request, hub.Viewer) {
	return func(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
		o, err := h.d.Orgs.Organization(r.Context(), r.PathValue("org"))
		if err == nil {
			err = h.d.Orgs.Authorize(r.Context(), orgs.Person(v.User.ID), o.ID, action, "")
		} else if apperr.CodeOf(err) == apperr.NotFound || apperr.CodeOf(err) == apperr.Invalid {
			err = apperr.Wrap(apperr.Forbidden, "no such organization", err)
		}
		if err != nil {
			h.d.Renderer.Error(w, r, v.P, err, "")
			return
		}
		fn(w, r, req{v: v, org: o})
	}
}

type listData struct{ Orgs []store.Organization }

// list shows the organizations the viewer administers (none: a page that
// says so, still 200: it shows nothing of anyone).
func (h *Handler) list(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	administered, err := h.d.Orgs.Administered(r.Context(), v.User.ID)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	if len(administered) == 0 {
		h.d.Renderer.Error(w, r, v.P, apperr.New(apperr.Forbidden, "administers no organization"), "console.none")
		return
	}
	h.d.Renderer.Render(w, r, http.StatusOK, "console_list", v.P, "console.title", listData{Orgs: administered})
}

// Sections of an organization's console, in the navigation's order.
var sections = []string{"members", "invitations", "history", "applications", "security", "legacy"}

type navItem struct {
	URL, Key string
	Current  bool
}

// orgPage is what every organization page gets.
type orgPage struct {
	Org     store.Organization
	Base    string // /console/CODE
	Section string
	Nav     []navItem
	Done    string // message key of what the last POST did
	Error   string // message key of a refusal
	Data    any
}

// WideLayout asks for the wide card.
func (orgPage) WideLayout() bool { return true }

func (h *Handler) page(r *http.Request, q req, section string, data any) orgPage {
	base := "/console/" + url.PathEscape(q.org.Code)
	p := orgPage{Org: q.org, Base: base, Section: section, Data: data}
	for _, s := range sections {
		p.Nav = append(p.Nav, navItem{URL: base + "/" + s, Key: "console.nav." + s, Current: s == section})
	}
	if d := r.URL.Query().Get("done"); strings.HasPrefix(d, "console.done.") && h.d.Renderer.Bundle.Has(d) {
		p.Done = d
	}
	return p
}

// show writes the organization page of section with data and, when
// errKey is not "", that message as the page's error.
func (h *Handler) show(w http.ResponseWriter, r *http.Request, q req, status int, section string, data any, errKey string) {
	p := h.page(r, q, section, data)
	p.Error = errKey
	h.d.Renderer.Render(w, r, status, "console_org", q.v.P, "console.nav."+p.Section, p)
}

// done redirects after a successful POST to the section with a notice.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, q req, section, key string) {
	http.Redirect(w, r, "/console/"+url.PathEscape(q.org.Code)+"/"+section+"?done="+url.QueryEscape(key), http.StatusSeeOther)
}

// refusals are, per section, the messages of the refused changes a person
// can act on, by error code.
var refusals = map[string]map[apperr.Code]string{
	"members": {
		apperr.LastAdministrator: "console.members.lastadmin",
		apperr.Invalid:           "console.members.badrole",
		apperr.NotFound:          "console.members.gone",
		apperr.Conflict:          "console.members.otherorgs",
	},
	"invitations": {
		apperr.Invalid:  "console.invite.invalid",
		apperr.Conflict: "console.invite.conflict",
		apperr.NotFound: "console.invite.gone",
	},
	"applications": {
		apperr.Invalid:  "console.app.invalid",
		apperr.NotFound: "console.app.invalid",
		apperr.Conflict: "console.app.conflict",
	},
	"legacy": {
		apperr.NotFound: "console.legacy.notfound",
		apperr.Conflict: "console.legacy.oneperservice",
		apperr.Invalid:  "console.legacy.notfound",
	},
}

// refused shows a refused change of section: refusals[section] maps the
// error codes a person can act on to message keys, and again renders the
// section with the status and the message; any other error gets the error
// page (403 above all).
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, q req, err error, section string, again func(status int, key string)) {
	code := apperr.CodeOf(err)
	key, ok := refusals[section][code]
	if !ok {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	h.d.Logger.InfoContext(r.Context(), "console change refused", slog.Any("err", err))
	again(apperr.HTTPStatus(code), key)
}

// meta is the request's origin for the two-step service's history.
func (h *Handler) meta(r *http.Request, q req) mfa.Meta {
	return mfa.Meta{ActorID: q.v.User.ID, OrgID: q.org.ID, IP: throttle.ClientIP(r, h.d.Proxies),
		UserAgent: safetext.Cut(r.UserAgent(), 256)}
}

// roles are the account types in the forms' order.
var roles = []store.Role{store.RoleAdministrator, store.RoleNormal, store.RoleVisitor}

// printer is the language of a page without a signed-in viewer.
func (h *Handler) printer(r *http.Request, u *store.User) *i18n.Printer {
	return h.d.Guard.Printer(r, u)
}
