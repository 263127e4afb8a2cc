package login

import (
	"context"
	"net/http"
	"net/url"
	"sort"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/store"
)

// The not-entitled page is an answer, not an error: the person signed in
// well, but none of their organizations uses the service. It names the
// service and their organizations, leads back to the hub, and offers an
// administrator the console's application for the service.

type notEntitledOrg struct {
	Name, Code string
	ApplyURL   string // for an administrator: the console's application page
}

type notEntitledData struct {
	Service, Email string
	Orgs           []notEntitledOrg
	Admin          bool // the person administers one of them
}

// notEntitled renders the answer page (403) for userID and client c.
func (h *Handler) notEntitled(w http.ResponseWriter, r *http.Request, p *i18n.Printer, c store.Client, userID string) {
	d, err := h.notEntitledData(r.Context(), c, userID)
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	h.d.Renderer.Render(w, r, http.StatusForbidden, "signin_not_entitled", p, "signin.notentitled.title", d)
}

func (h *Handler) notEntitledData(ctx context.Context, c store.Client, userID string) (notEntitledData, error) {
	d := notEntitledData{Service: c.Name}
	svcCode := ""
	if svc, err := h.d.Directory.GetService(ctx, c.ServiceID); err == nil {
		svcCode = svc.Code
		if d.Service == "" {
			d.Service = svc.Name
		}
	}
	if d.Service == "" {
		d.Service = c.ID
	}
	u, err := h.d.Directory.GetUser(ctx, userID)
	if err != nil {
		return d, apperr.Wrap(apperr.Internal, "load user", err)
	}
	d.Email = u.Email
	ms, err := h.d.Directory.ListMembershipsByUser(ctx, userID)
	if err != nil {
		return d, err
	}
	for _, m := range ms {
		o, err := h.d.Directory.GetOrganization(ctx, m.OrgID)
		if err != nil {
			continue // a membership whose organization is gone
		}
		v := notEntitledOrg{Name: o.Name, Code: o.Code}
		if m.Role == store.RoleAdministrator {
			d.Admin = true
			q := url.Values{}
			if svcCode != "" {
				q.Set("service", svcCode)
			}
			v.ApplyURL = "/console/" + url.PathEscape(o.Code) + "/applications"
			if len(q) > 0 {
				v.ApplyURL += "?" + q.Encode()
			}
		}
		d.Orgs = append(d.Orgs, v)
	}
	sort.Slice(d.Orgs, func(i, j int) bool { return d.Orgs[i].Code < d.Orgs[j].Code })
	return d, nil
}
