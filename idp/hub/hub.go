// Package hub serves the Customer Hub's home page and provides the guard
// every signed-in hub page uses: it finds the browser session and the
// person, or sends them to /signin and back.
package hub

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/store"
)

// Directory is the durable storage the hub pages read.
type Directory interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetOrganization(ctx context.Context, id string) (store.Organization, error)
	ListMembershipsByUser(ctx context.Context, userID string) ([]store.Membership, error)
	ListEntitlementsByOrg(ctx context.Context, orgID string) ([]store.Entitlement, error)
	GetService(ctx context.Context, id string) (store.Service, error)
	ListClients(ctx context.Context) ([]store.Client, error)
}

// Viewer is the signed-in person of a request.
type Viewer struct {
	User    store.User
	Session store.Session
	P       *i18n.Printer
}

// Guard resolves the Viewer of hub pages.
type Guard struct {
	Sessions  *session.Manager
	Directory Directory
	Renderer  *web.Renderer
	Logger    *slog.Logger
}

// Printer negotiates the page language: the person's setting, else the
// switcher cookie and Accept-Language.
func (g *Guard) Printer(r *http.Request, u *store.User) *i18n.Printer {
	b := g.Renderer.Bundle
	if u != nil && u.Locale != "" {
		if c, err := r.Cookie(i18n.LangCookie); err != nil || c.Value == "" {
			return b.Printer(b.Match(u.Locale))
		}
	}
	return b.Printer(b.FromRequest(r))
}

// Require wraps a page that needs a signed-in person. Without a live
// session it redirects to /signin with the page as the return address.
// The page's request carries the person's avatar menu (web.WithMenu).
func (g *Guard) Require(next func(w http.ResponseWriter, r *http.Request, v Viewer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, live, err := g.Sessions.Current(r.Context(), w, r)
		if err != nil {
			g.Renderer.Error(w, r, g.Printer(r, nil), err, "")
			return
		}
		if !live || s.UserID == "" {
			ret := r.URL.Path
			if r.Method != http.MethodGet {
				ret = "/"
			} else if r.URL.RawQuery != "" {
				ret += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, "/signin?return="+url.QueryEscape(ret), http.StatusSeeOther)
			return
		}
		u, err := g.Directory.GetUser(r.Context(), s.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || session.Stale(s, u))) {
			_ = g.Sessions.End(r.Context(), s.ID)
			g.Sessions.Clear(w)
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		if err != nil {
			g.Renderer.Error(w, r, g.Printer(r, nil), err, "")
			return
		}
		menu, err := g.menu(r.Context(), u)
		if err != nil {
			g.Renderer.Error(w, r, g.Printer(r, &u), err, "")
			return
		}
		r = r.WithContext(web.WithMenu(r.Context(), menu))
		next(w, r, Viewer{User: u, Session: s, P: g.Printer(r, &u)})
	}
}

// Peek finds the signed-in person of a request no guard saw (the 404 and
// 405 pages, web.Renderer.Peek): their avatar menu and language. It
// returns nils when nobody is signed in, and on any failure (the page then
// shows without a menu).
func (g *Guard) Peek(w http.ResponseWriter, r *http.Request) (*web.Menu, *i18n.Printer) {
	s, live, err := g.Sessions.Current(r.Context(), w, r)
	if err != nil || !live || s.UserID == "" {
		return nil, nil
	}
	u, err := g.Directory.GetUser(r.Context(), s.UserID)
	if err != nil || u.Disabled || session.Stale(s, u) {
		return nil, nil
	}
	m, err := g.menu(r.Context(), u)
	if err != nil {
		return nil, nil
	}
	return &m, g.Printer(r, &u)
}

// menu is u's avatar menu, which the layout shows on every hub page.
func (g *Guard) menu(ctx context.Context, u store.User) (web.Menu, error) {
	m := web.Menu{Name: u.Name, Email: u.Email}
	ms, err := g.Directory.ListMembershipsByUser(ctx, u.ID)
	if err != nil {
		return m, err
	}
	for _, x := range ms {
		m.Console = m.Console || x.Role == store.RoleAdministrator
	}
	return m, nil
}

// Handler serves the home page.
type Handler struct{ g *Guard }

// New returns the home page handler.
func New(g *Guard) *Handler { return &Handler{g: g} }

// Mount registers the home page.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.g.Require(h.home))
}

type orgView struct {
	Name, Code string
	RoleKey    string // message key of the account type
	Admin      bool
}

type serviceView struct{ Name, URL string }

type homeData struct {
	Name, Email string
	Unverified  bool
	Console     bool // the viewer administers an organization: link /console
	Orgs        []orgView
	Services    []serviceView
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, v Viewer) {
	ctx := r.Context()
	d := homeData{Name: v.User.Name, Email: v.User.Email, Unverified: !v.User.EmailVerified}
	ms, err := h.g.Directory.ListMembershipsByUser(ctx, v.User.ID)
	if err != nil {
		h.g.Renderer.Error(w, r, v.P, err, "")
		return
	}
	services := map[string]bool{}
	for _, m := range ms {
		o, err := h.g.Directory.GetOrganization(ctx, m.OrgID)
		if err != nil {
			h.g.Renderer.Error(w, r, v.P, apperr.Wrap(apperr.Internal, "load organization", err), "")
			return
		}
		d.Console = d.Console || m.Role == store.RoleAdministrator
		d.Orgs = append(d.Orgs, orgView{Name: o.Name, Code: o.Code, RoleKey: "role." + string(m.Role), Admin: m.Role == store.RoleAdministrator})
		es, err := h.g.Directory.ListEntitlementsByOrg(ctx, m.OrgID)
		if err != nil {
			h.g.Renderer.Error(w, r, v.P, err, "")
			return
		}
		for _, e := range es {
			services[e.ServiceID] = true
		}
	}
	cs, err := h.g.Directory.ListClients(ctx)
	if err != nil {
		h.g.Renderer.Error(w, r, v.P, err, "")
		return
	}
	for _, c := range cs {
		if c.ServiceID != "" && services[c.ServiceID] && c.HomeURL != "" {
			name := c.Name
			if s, err := h.g.Directory.GetService(ctx, c.ServiceID); err == nil && name == "" {
				name = s.Name
			}
			d.Services = append(d.Services, serviceView{Name: name, URL: c.HomeURL})
		}
	}
	sort.Slice(d.Services, func(i, j int) bool { return d.Services[i].Name < d.Services[j].Name })
	sort.Slice(d.Orgs, func(i, j int) bool { return d.Orgs[i].Code < d.Orgs[j].Code })
	h.g.Renderer.Render(w, r, http.StatusOK, "home", v.P, "home.title", d)
}
