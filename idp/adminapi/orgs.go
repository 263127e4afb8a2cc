package adminapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/customerhub/hubid/store"
)

// Organizations, their memberships (read) and entitlements.

func (a *API) listOrgs(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	all, err := a.cfg.Store.ListOrganizations(r.Context())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	code, text := q.Get("code"), strings.ToLower(q.Get("q"))
	all = slices.DeleteFunc(all, func(o store.Organization) bool {
		return (code != "" && o.Code != code) ||
			(text != "" && !strings.Contains(strings.ToLower(o.Code), text) && !strings.Contains(strings.ToLower(o.Name), text))
	})
	writeJSON(w, http.StatusOK, paginate(all, p, func(o store.Organization) string { return o.Code }, orgView), "")
	return nil
}

func (a *API) getOrg(w http.ResponseWriter, r *http.Request) error {
	o, err := a.cfg.Store.GetOrganization(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFound(err, "organization")
	}
	v := orgView(o)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// OrganizationCreate is the body of POST /organizations.
type OrganizationCreate struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (a *API) createOrg(w http.ResponseWriter, r *http.Request) error {
	var in OrganizationCreate
	if err := a.decode(r, &in); err != nil {
		return err
	}
	var ps problems
	ps.code("code", in.Code)
	ps.name("name", in.Name)
	if err := ps.err(); err != nil {
		return err
	}
	id, err := a.newID()
	if err != nil {
		return err
	}
	o := store.Organization{ID: id, Code: in.Code, Name: strings.TrimSpace(in.Name), CreatedAt: a.cfg.Now()}
	err = a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		*ev = store.AuditEvent{Kind: "admin.organization.created", OrgID: id, Detail: map[string]string{"code": o.Code}}
		return exists(tx.CreateOrganization(r.Context(), o), "an organization with code "+in.Code+" exists")
	})
	if err != nil {
		return err
	}
	v := orgView(o)
	w.Header().Set("Location", Prefix+"/organizations/"+id)
	writeJSON(w, http.StatusCreated, v, etagOf(v))
	return nil
}

func (a *API) listOrgMemberships(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	role := store.Role(r.URL.Query().Get("role"))
	if role != "" && !role.Valid() {
		return errInvalid("role: one of administrator, normal, visitor")
	}
	id := r.PathValue("id")
	if _, err := a.cfg.Store.GetOrganization(r.Context(), id); err != nil {
		return notFound(err, "organization")
	}
	ms, err := a.cfg.Store.ListMembershipsByOrg(r.Context(), id)
	if err != nil {
		return err
	}
	ms = slices.DeleteFunc(ms, func(m store.Membership) bool { return role != "" && m.Role != role })
	writeJSON(w, http.StatusOK, paginate(ms, p, func(m store.Membership) string { return m.UserID }, membershipView), "")
	return nil
}

func (a *API) listEntitlements(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.cfg.Store.GetOrganization(r.Context(), id); err != nil {
		return notFound(err, "organization")
	}
	es, err := a.cfg.Store.ListEntitlementsByOrg(r.Context(), id)
	if err != nil {
		return err
	}
	slices.SortFunc(es, func(x, y store.Entitlement) int { return strings.Compare(x.ServiceID, y.ServiceID) })
	writeJSON(w, http.StatusOK, paginate(es, p, func(e store.Entitlement) string { return e.ServiceID }, entitlementView), "")
	return nil
}

// entitlementLister is the read findEntitlement needs (the store or a
// transaction).
type entitlementLister interface {
	ListEntitlementsByOrg(ctx context.Context, orgID string) ([]store.Entitlement, error)
}

// findEntitlement returns the organization's entitlement to a service.
func findEntitlement(ctx context.Context, d entitlementLister, orgID, serviceID string) (store.Entitlement, error) {
	es, err := d.ListEntitlementsByOrg(ctx, orgID)
	if err != nil {
		return store.Entitlement{}, err
	}
	for _, e := range es {
		if e.ServiceID == serviceID {
			return e, nil
		}
	}
	return store.Entitlement{}, errNotFound("the organization is not entitled to this service")
}

func (a *API) getEntitlement(w http.ResponseWriter, r *http.Request) error {
	e, err := findEntitlement(r.Context(), a.cfg.Store, r.PathValue("id"), r.PathValue("service_id"))
	if err != nil {
		return err
	}
	v := entitlementView(e)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// putEntitlement entitles the organization to the service: 201 when it
// was not, 200 (nothing written) when it already was. It has no body and
// needs no If-Match: an entitlement has nothing to overwrite.
func (a *API) putEntitlement(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	orgID, serviceID := r.PathValue("id"), r.PathValue("service_id")
	var e store.Entitlement
	created := false
	err := a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		if _, err := tx.GetOrganization(ctx, orgID); err != nil {
			return notFound(err, "organization")
		}
		svc, err := tx.GetService(ctx, serviceID)
		if err != nil {
			return notFound(err, "service")
		}
		if e, err = findEntitlement(ctx, tx, orgID, serviceID); err == nil {
			return errUnchanged
		}
		e = store.Entitlement{OrgID: orgID, ServiceID: serviceID, CreatedAt: a.cfg.Now()}
		*ev = store.AuditEvent{Kind: "admin.entitlement.granted", OrgID: orgID, Detail: map[string]string{"service": svc.Code}}
		created = true
		return tx.PutEntitlement(ctx, e)
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return err
	}
	v := entitlementView(e)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", r.URL.Path)
	}
	writeJSON(w, status, v, etagOf(v))
	return nil
}

func (a *API) deleteEntitlement(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	orgID, serviceID := r.PathValue("id"), r.PathValue("service_id")
	err := a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		e, err := findEntitlement(ctx, tx, orgID, serviceID)
		if err != nil {
			return err
		}
		if err := requireMatch(r, entitlementView(e)); err != nil {
			return err
		}
		*ev = store.AuditEvent{Kind: "admin.entitlement.revoked", OrgID: orgID, Detail: map[string]string{"service_id": serviceID}}
		return notFound(tx.DeleteEntitlement(ctx, orgID, serviceID), "entitlement")
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
