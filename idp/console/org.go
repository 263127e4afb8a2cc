package console

import (
	"net/http"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/account"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

type applicationRow struct {
	Service, StatusKey, Reason, Created, CreatedISO string
}

type applicationsData struct {
	Available []store.Service // services the organization is not entitled to
	Service   string
	Note      string
	Rows      []applicationRow
}

// applications lists the organization's service applications and the
// services it may apply for ("New application for NK service usage").
func (h *Handler) applications(w http.ResponseWriter, r *http.Request, q req) {
	h.renderApplications(w, r, q, http.StatusOK, applicationsData{}, "")
}

func (h *Handler) renderApplications(w http.ResponseWriter, r *http.Request, q req, status int, d applicationsData, errKey string) {
	ctx := r.Context()
	as, err := h.d.Orgs.ListApplications(ctx, q.actor(), orgs.ApplicationQuery{OrgID: q.org.ID})
	if err != nil {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	svcs, err := h.d.Store.ListServices(ctx)
	if err != nil {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	es, err := h.d.Store.ListEntitlementsByOrg(ctx, q.org.ID)
	if err != nil {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	entitled, byID := map[string]bool{}, map[string]store.Service{}
	for _, e := range es {
		entitled[e.ServiceID] = true
	}
	for _, v := range svcs {
		byID[v.ID] = v
		if !entitled[v.ID] {
			d.Available = append(d.Available, v)
		}
	}
	for _, a := range as {
		name := a.ServiceID
		if v, ok := byID[a.ServiceID]; ok {
			name = v.Name
		}
		t := account.RowOf(q.v.P, store.AuditEvent{Time: a.CreatedAt}, "", "")
		d.Rows = append(d.Rows, applicationRow{Service: name, StatusKey: "console.app.status." + string(a.Status),
			Reason: a.Reason, Created: t.Time, CreatedISO: t.ISO})
	}
	h.show(w, r, q, status, "applications", d, errKey)
}

func (h *Handler) postApply(w http.ResponseWriter, r *http.Request, q req) {
	d := applicationsData{Service: r.PostFormValue("service"), Note: r.PostFormValue("note")}
	if _, err := h.d.Orgs.Apply(r.Context(), q.actor(), q.org.ID, d.Service, d.Note); err != nil {
		h.refused(w, r, q, err, "applications", func(status int, key string) { h.renderApplications(w, r, q, status, d, key) })
		return
	}
	h.done(w, r, q, "applications", "console.done.applied")
}

type securityData struct{ Required bool }

// security shows the organization's two-step verification policy.
func (h *Handler) security(w http.ResponseWriter, r *http.Request, q req) {
	h.show(w, r, q, http.StatusOK, "security", securityData{Required: q.org.RequireMFA}, "")
}

// postSecurity turns "require two-step verification" on or off
// (mfa.SetOrgRequired: audited in the organization's history).
func (h *Handler) postSecurity(w http.ResponseWriter, r *http.Request, q req) {
	on := r.PostFormValue("require_mfa") == "1"
	if err := h.d.TwoStep.SetOrgRequired(r.Context(), q.org.ID, on, h.meta(r, q)); err != nil {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	key := "console.done.mfaoptional"
	if on {
		key = "console.done.mfarequired"
	}
	h.done(w, r, q, "security", key)
}

type legacyData struct {
	Rows            []legacy.OrgLoginID
	Email, LoginID  string // the link form as typed
	ServiceLoginIDs []string
}

// legacyIDs lists the organization's legacy login IDs and who is linked.
func (h *Handler) legacyIDs(w http.ResponseWriter, r *http.Request, q req) {
	h.renderLegacy(w, r, q, http.StatusOK, legacyData{}, "")
}

func (h *Handler) renderLegacy(w http.ResponseWriter, r *http.Request, q req, status int, d legacyData, errKey string) {
	rows, err := h.d.Legacy.OrgLoginIDs(r.Context(), q.v.User.ID, q.org.ID)
	if err != nil {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	d.Rows = rows
	h.show(w, r, q, status, "legacy", d, errKey)
}

func (h *Handler) legacyRefused(w http.ResponseWriter, r *http.Request, q req, d legacyData, err error) {
	h.refused(w, r, q, err, "legacy", func(status int, key string) { h.renderLegacy(w, r, q, status, d, key) })
}

// postLink links one of the organization's login IDs ("SERVICE LOGINID"
// from the form's choice) to a member given by email.
func (h *Handler) postLink(w http.ResponseWriter, r *http.Request, q req) {
	d := legacyData{Email: r.PostFormValue("email"), LoginID: r.PostFormValue("login")}
	userID, err := h.memberByEmail(r, q, d.Email)
	if err == nil {
		svc, id := splitLogin(d.LoginID)
		err = h.d.Legacy.LinkMember(r.Context(), q.v.User.ID, q.org.ID, userID, svc, id)
	}
	if err != nil {
		h.legacyRefused(w, r, q, d, err)
		return
	}
	h.done(w, r, q, "legacy", "console.done.linked")
}

func (h *Handler) postUnlink(w http.ResponseWriter, r *http.Request, q req) {
	_, err := h.d.Legacy.UnlinkMember(r.Context(), q.v.User.ID, q.org.ID, r.PostFormValue("user"), r.PostFormValue("service"))
	if err != nil {
		h.legacyRefused(w, r, q, legacyData{}, err)
		return
	}
	h.done(w, r, q, "legacy", "console.done.unlinked")
}

// memberByEmail finds a member of the organization by email; anyone else
// is NotFound (the service checks membership again).
func (h *Handler) memberByEmail(r *http.Request, q req, email string) (string, error) {
	u, err := h.d.Store.GetUserByEmail(r.Context(), email)
	if err != nil {
		return "", apperr.Wrap(apperr.NotFound, "no such member", err)
	}
	if _, err := h.d.Orgs.GetMember(r.Context(), q.actor(), q.org.ID, u.ID); err != nil {
		return "", err
	}
	return u.ID, nil
}

// splitLogin splits the link form's "SERVICE LOGINID".
func splitLogin(s string) (service, loginID string) {
	service, loginID, _ = strings.Cut(s, " ")
	return service, loginID
}
