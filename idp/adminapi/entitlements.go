package adminapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Entitlements: which organization may use which service. Writes go
// through the organizations service (Entitle, Unentitle).

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

// lockOrg locks an organization's row for the rest of the transaction:
// the entitlement and membership writes of one organization then run one
// after the other, so an If-Match check holds until the change commits.
func lockOrg(r *http.Request, tx store.Durable, orgID string) error {
	_, err := tx.UpdateOrganization(r.Context(), orgID, func(*store.Organization) error { return nil })
	return notFound(err, "organization")
}

// putEntitlement entitles the organization to the service: 201 when it
// was not, 200 (nothing written) when it already was. It has no body and
// needs no If-Match: an entitlement has nothing to overwrite.
func (a *API) putEntitlement(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	orgID, serviceID := r.PathValue("id"), r.PathValue("service_id")
	var e store.Entitlement
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if err := lockOrg(r, tx, orgID); err != nil {
			return err
		}
		if _, err := tx.GetService(ctx, serviceID); err != nil {
			return notFound(err, "service")
		}
		var err error
		if e, err = findEntitlement(ctx, tx, orgID, serviceID); err == nil {
			return errUnchanged
		}
		if err := svc.Entitle(ctx, ActorOf(ctx), orgID, serviceID); err != nil {
			return err
		}
		e, err = findEntitlement(ctx, tx, orgID, serviceID)
		return err
	})
	created := err == nil
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
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if err := lockOrg(r, tx, orgID); err != nil {
			return err
		}
		e, err := findEntitlement(ctx, tx, orgID, serviceID)
		if err != nil {
			return err
		}
		if err := requireMatch(r, entitlementView(e)); err != nil {
			return err
		}
		return svc.Unentitle(ctx, ActorOf(ctx), orgID, serviceID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
