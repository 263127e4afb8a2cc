package sqlstore

import (
	"context"

	"github.com/customerhub/hubid/store"
)

func scanOrg(r scanner) (store.Organization, error) {
	var o store.Organization
	err := r.Scan(&o.ID, &o.Code, &o.Name, ts(&o.CreatedAt), &o.RequireMFA)
	return o, err
}

// CreateOrganization inserts an organization; ErrAlreadyExists when the ID
// or the code is taken.
func (s *Store) CreateOrganization(ctx context.Context, o store.Organization) error {
	_, err := s.exec(ctx, "create organization",
		`INSERT INTO organizations (id, code, name, created_at, require_mfa) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.Code, o.Name, micros(orNow(o.CreatedAt, s.Now())), o.RequireMFA)
	return err
}

// GetOrganization returns an organization by ID.
func (s *Store) GetOrganization(ctx context.Context, id string) (store.Organization, error) {
	return get(s, ctx, "get organization",
		`SELECT id, code, name, created_at, require_mfa FROM organizations WHERE id = $1`, scanOrg, id)
}

// GetOrganizationByCode returns an organization by its code (exact match).
func (s *Store) GetOrganizationByCode(ctx context.Context, code string) (store.Organization, error) {
	return get(s, ctx, "get organization by code",
		`SELECT id, code, name, created_at, require_mfa FROM organizations WHERE code = $1`, scanOrg, code)
}

// ListOrganizations returns every organization, by code.
func (s *Store) ListOrganizations(ctx context.Context) ([]store.Organization, error) {
	return list(s, ctx, "list organizations",
		`SELECT id, code, name, created_at, require_mfa FROM organizations ORDER BY code`, scanOrg)
}

func scanMembership(r scanner) (store.Membership, error) {
	var m store.Membership
	err := r.Scan(&m.UserID, &m.OrgID, &m.Role, ts(&m.CreatedAt))
	return m, err
}

// PutMembership inserts a membership or changes its role (CreatedAt stays).
// ErrNotFound when the user or the organization does not exist.
func (s *Store) PutMembership(ctx context.Context, m store.Membership) error {
	_, err := s.exec(ctx, "put membership",
		`INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role`,
		m.UserID, m.OrgID, string(m.Role), micros(orNow(m.CreatedAt, s.Now())))
	return err
}

// DeleteMembership removes a membership; ErrNotFound when there is none.
func (s *Store) DeleteMembership(ctx context.Context, userID, orgID string) error {
	return s.execOne(ctx, "delete membership",
		`DELETE FROM memberships WHERE user_id = $1 AND org_id = $2`, userID, orgID)
}

// ListMembershipsByUser returns a user's memberships, by organization ID.
func (s *Store) ListMembershipsByUser(ctx context.Context, userID string) ([]store.Membership, error) {
	return list(s, ctx, "list memberships by user", `SELECT user_id, org_id, role, created_at
		FROM memberships WHERE user_id = $1 ORDER BY org_id`, scanMembership, userID)
}

// ListMembershipsByOrg returns an organization's memberships, by user ID.
func (s *Store) ListMembershipsByOrg(ctx context.Context, orgID string) ([]store.Membership, error) {
	return list(s, ctx, "list memberships by organization", `SELECT user_id, org_id, role, created_at
		FROM memberships WHERE org_id = $1 ORDER BY user_id`, scanMembership, orgID)
}

func scanService(r scanner) (store.Service, error) {
	var v store.Service
	err := r.Scan(&v.ID, &v.Code, &v.Name, ts(&v.CreatedAt))
	return v, err
}

// CreateService inserts a service; ErrAlreadyExists when the ID or the code
// is taken.
func (s *Store) CreateService(ctx context.Context, v store.Service) error {
	_, err := s.exec(ctx, "create service",
		`INSERT INTO services (id, code, name, created_at) VALUES ($1, $2, $3, $4)`,
		v.ID, v.Code, v.Name, micros(orNow(v.CreatedAt, s.Now())))
	return err
}

// GetService returns a service by ID.
func (s *Store) GetService(ctx context.Context, id string) (store.Service, error) {
	return get(s, ctx, "get service",
		`SELECT id, code, name, created_at FROM services WHERE id = $1`, scanService, id)
}

// GetServiceByCode returns a service by its code (exact match).
func (s *Store) GetServiceByCode(ctx context.Context, code string) (store.Service, error) {
	return get(s, ctx, "get service by code",
		`SELECT id, code, name, created_at FROM services WHERE code = $1`, scanService, code)
}

// ListServices returns every service, by code.
func (s *Store) ListServices(ctx context.Context) ([]store.Service, error) {
	return list(s, ctx, "list services",
		`SELECT id, code, name, created_at FROM services ORDER BY code`, scanService)
}

func scanEntitlement(r scanner) (store.Entitlement, error) {
	var e store.Entitlement
	err := r.Scan(&e.OrgID, &e.ServiceID, ts(&e.CreatedAt))
	return e, err
}

// PutEntitlement lets an organization use a service; putting it again
// changes nothing. ErrNotFound when either does not exist.
func (s *Store) PutEntitlement(ctx context.Context, e store.Entitlement) error {
	_, err := s.exec(ctx, "put entitlement",
		`INSERT INTO entitlements (org_id, service_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (org_id, service_id) DO NOTHING`,
		e.OrgID, e.ServiceID, micros(orNow(e.CreatedAt, s.Now())))
	return err
}

// DeleteEntitlement removes an entitlement; ErrNotFound when there is none.
func (s *Store) DeleteEntitlement(ctx context.Context, orgID, serviceID string) error {
	return s.execOne(ctx, "delete entitlement",
		`DELETE FROM entitlements WHERE org_id = $1 AND service_id = $2`, orgID, serviceID)
}

// ListEntitledMemberships returns a user's memberships in organizations
// entitled to a service, with the organizations, by code, in one query.
func (s *Store) ListEntitledMemberships(ctx context.Context, userID, serviceID string) ([]store.EntitledMembership, error) {
	return list(s, ctx, "list entitled memberships", `SELECT o.id, o.code, o.name, o.created_at, o.require_mfa, m.role
		FROM memberships m
		JOIN organizations o ON o.id = m.org_id
		JOIN entitlements e ON e.org_id = m.org_id AND e.service_id = $2
		WHERE m.user_id = $1 ORDER BY o.code`, func(r scanner) (store.EntitledMembership, error) {
		var em store.EntitledMembership
		o := &em.Organization
		err := r.Scan(&o.ID, &o.Code, &o.Name, ts(&o.CreatedAt), &o.RequireMFA, &em.Role)
		return em, err
	}, userID, serviceID)
}

// ListEntitlementsByOrg returns an organization's entitlements, by service
// ID.
func (s *Store) ListEntitlementsByOrg(ctx context.Context, orgID string) ([]store.Entitlement, error) {
	return list(s, ctx, "list entitlements", `SELECT org_id, service_id, created_at
		FROM entitlements WHERE org_id = $1 ORDER BY service_id`, scanEntitlement, orgID)
}

// UpdateOrganization locks an organization, calls fn, and writes the
// result; ID and CreatedAt are kept. A code another organization has is
// ErrAlreadyExists.
func (s *Store) UpdateOrganization(ctx context.Context, id string, fn func(*store.Organization) error) (store.Organization, error) {
	var out store.Organization
	err := s.withTx(ctx, func(t *Store) error {
		o, err := get(t, ctx, "update organization", `SELECT id, code, name, created_at, require_mfa FROM organizations
			WHERE id = $1`+t.d.ForUpdate, scanOrg, id)
		if err != nil {
			return err
		}
		old := o
		if err := fn(&o); err != nil {
			return err
		}
		// The two-step policy changes only through SetOrganizationRequireMFA.
		o.ID, o.CreatedAt, o.RequireMFA = old.ID, old.CreatedAt, old.RequireMFA
		if _, err := t.q.Exec(ctx, `UPDATE organizations SET code = $2, name = $3 WHERE id = $1`,
			o.ID, o.Code, o.Name); err != nil {
			return t.wrap("update organization", err)
		}
		out = o
		return nil
	})
	if err != nil {
		return store.Organization{}, err
	}
	return out, nil
}

// DeleteOrganization deletes an organization with its memberships,
// entitlements, legacy login IDs, invitations and applications; the usage
// history stays.
func (s *Store) DeleteOrganization(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete organization", `DELETE FROM organizations WHERE id = $1`, id)
}

// UpdateService locks a service, calls fn, and writes the result; ID and
// CreatedAt are kept. A code another service has is ErrAlreadyExists.
func (s *Store) UpdateService(ctx context.Context, id string, fn func(*store.Service) error) (store.Service, error) {
	var out store.Service
	err := s.withTx(ctx, func(t *Store) error {
		v, err := get(t, ctx, "update service", `SELECT id, code, name, created_at FROM services
			WHERE id = $1`+t.d.ForUpdate, scanService, id)
		if err != nil {
			return err
		}
		old := v
		if err := fn(&v); err != nil {
			return err
		}
		v.ID, v.CreatedAt = old.ID, old.CreatedAt
		if _, err := t.q.Exec(ctx, `UPDATE services SET code = $2, name = $3 WHERE id = $1`,
			v.ID, v.Code, v.Name); err != nil {
			return t.wrap("update service", err)
		}
		out = v
		return nil
	})
	if err != nil {
		return store.Service{}, err
	}
	return out, nil
}

// DeleteService deletes a service with its entitlements, legacy login IDs
// and applications. Clients naming it keep its ID (they no longer sign
// anyone in: no organization is entitled to it).
func (s *Store) DeleteService(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete service", `DELETE FROM services WHERE id = $1`, id)
}
