package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/customerhub/hubid/store"
)

const legacyCols = `login_id, service_id, org_id, password_hash, contact_email, disabled, created_at, updated_at`

func scanLegacy(r scanner) (store.LegacyLoginID, error) {
	var l store.LegacyLoginID
	err := r.Scan(&l.LoginID, &l.ServiceID, &l.OrgID, &l.PasswordHash, &l.ContactEmail, &l.Disabled, ts(&l.CreatedAt), ts(&l.UpdatedAt))
	return l, err
}

// CreateLegacyLoginID inserts a legacy login ID; ErrAlreadyExists when the
// service has that login ID already, ErrNotFound when the service or the
// organization does not exist.
func (s *Store) CreateLegacyLoginID(ctx context.Context, l store.LegacyLoginID) error {
	_, err := s.exec(ctx, "create legacy login ID", `INSERT INTO legacy_login_ids
		(service_id, login_id, org_id, password_hash, contact_email, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		l.ServiceID, l.LoginID, l.OrgID, l.PasswordHash, l.ContactEmail, l.Disabled,
		micros(orNow(l.CreatedAt, s.Now())), nullMicros(l.UpdatedAt))
	return err
}

// GetLegacyLoginID returns a service's legacy login ID (exact match).
func (s *Store) GetLegacyLoginID(ctx context.Context, serviceID, loginID string) (store.LegacyLoginID, error) {
	return get(s, ctx, "get legacy login ID", `SELECT `+legacyCols+`
		FROM legacy_login_ids WHERE service_id = $1 AND login_id = $2`, scanLegacy, serviceID, loginID)
}

// ListLegacyLoginIDs returns a service's login IDs, by login ID.
func (s *Store) ListLegacyLoginIDs(ctx context.Context, serviceID string) ([]store.LegacyLoginID, error) {
	return list(s, ctx, "list legacy login IDs", `SELECT `+legacyCols+`
		FROM legacy_login_ids WHERE service_id = $1 ORDER BY login_id`, scanLegacy, serviceID)
}

// ListLegacyLoginIDsByOrg returns an organization's login IDs of every
// service, by service ID then login ID (index legacy_login_ids_org_service_login).
func (s *Store) ListLegacyLoginIDsByOrg(ctx context.Context, orgID string) ([]store.LegacyLoginID, error) {
	return list(s, ctx, "list legacy login IDs of an organization", `SELECT `+legacyCols+`
		FROM legacy_login_ids WHERE org_id = $1 ORDER BY service_id, login_id`, scanLegacy, orgID)
}

// CreateLegacyLink links a legacy login ID to a user: ErrAlreadyExists when
// the user has a link for that service, ErrNotFound when the user or the
// login ID does not exist. Many users may share one login ID.
func (s *Store) CreateLegacyLink(ctx context.Context, l store.LegacyLink) error {
	_, err := s.exec(ctx, "create legacy link", `INSERT INTO legacy_links
		(user_id, service_id, login_id, linked_at) VALUES ($1, $2, $3, $4)`,
		l.UserID, l.ServiceID, l.LoginID, micros(orNow(l.LinkedAt, s.Now())))
	return err
}

func scanLink(r scanner) (store.LegacyLink, error) {
	var l store.LegacyLink
	err := r.Scan(&l.UserID, &l.ServiceID, &l.LoginID, ts(&l.LinkedAt))
	return l, err
}

// ListLegacyLinksByUser returns a user's links, by service ID.
func (s *Store) ListLegacyLinksByUser(ctx context.Context, userID string) ([]store.LegacyLink, error) {
	return list(s, ctx, "list legacy links", `SELECT user_id, service_id, login_id, linked_at
		FROM legacy_links WHERE user_id = $1 ORDER BY service_id`, scanLink, userID)
}

// ListLegacyLinksByLoginID returns the people linked to a login ID, by
// user ID.
func (s *Store) ListLegacyLinksByLoginID(ctx context.Context, serviceID, loginID string) ([]store.LegacyLink, error) {
	return list(s, ctx, "list legacy links by login ID", `SELECT user_id, service_id, login_id, linked_at
		FROM legacy_links WHERE service_id = $1 AND login_id = $2 ORDER BY user_id`, scanLink, serviceID, loginID)
}

// DeleteLegacyLink removes a user's link for a service.
func (s *Store) DeleteLegacyLink(ctx context.Context, userID, serviceID string) error {
	return s.execOne(ctx, "delete legacy link",
		`DELETE FROM legacy_links WHERE user_id = $1 AND service_id = $2`, userID, serviceID)
}

// LinkLegacyLoginID links a login ID and adds the membership fn decides,
// in one transaction holding the organization's row lock (SQLite: the
// database's write lock, which BEGIN IMMEDIATE takes).
func (s *Store) LinkLegacyLoginID(ctx context.Context, l store.LegacyLink, fn func(store.Organization, []store.Membership) (*store.Membership, error)) error {
	return s.withTx(ctx, func(t *Store) error {
		lid, err := t.GetLegacyLoginID(ctx, l.ServiceID, l.LoginID)
		if err != nil {
			return err
		}
		org, err := get(t, ctx, "lock organization", `SELECT id, code, name, created_at, require_mfa
			FROM organizations WHERE id = $1`+t.d.ForUpdate, scanOrg, lid.OrgID)
		if err != nil {
			return err
		}
		ms, err := t.ListMembershipsByOrg(ctx, org.ID)
		if err != nil {
			return err
		}
		m, err := fn(org, ms)
		if err != nil {
			return err
		}
		if err := t.CreateLegacyLink(ctx, l); err != nil {
			return err
		}
		if m != nil {
			return t.PutMembership(ctx, *m)
		}
		return nil
	})
}

// LegacyReport counts login IDs, linked login IDs and linked people per
// service and organization. One person has at most one login ID per
// service, so summing people per login ID counts distinct people.
func (s *Store) LegacyReport(ctx context.Context, serviceID string) ([]store.LegacyReportRow, error) {
	return list(s, ctx, "legacy report", `SELECT v.code, o.code, o.name,
		CAST(COUNT(*) AS BIGINT), CAST(COUNT(k.login_id) AS BIGINT), CAST(COALESCE(SUM(k.people), 0) AS BIGINT)
		FROM legacy_login_ids l
		JOIN services v ON v.id = l.service_id
		JOIN organizations o ON o.id = l.org_id
		LEFT JOIN (SELECT service_id, login_id, COUNT(*) AS people FROM legacy_links
			GROUP BY service_id, login_id) k ON k.service_id = l.service_id AND k.login_id = l.login_id
		WHERE $1 = '' OR l.service_id = $1
		GROUP BY v.code, o.code, o.name
		ORDER BY v.code, o.code`,
		func(r scanner) (store.LegacyReportRow, error) {
			var x store.LegacyReportRow
			var total, reg, people int64
			err := r.Scan(&x.ServiceCode, &x.OrgCode, &x.OrgName, &total, &reg, &people)
			x.Total, x.Registered, x.People = int(total), int(reg), int(people)
			return x, err
		}, serviceID)
}

const registrationCols = `token_hash, service_id, login_id, email, name, locale, created_at, expires_at, used_at`

func scanRegistration(r scanner) (store.LegacyRegistration, error) {
	var g store.LegacyRegistration
	err := r.Scan(&g.Hash, &g.ServiceID, &g.LoginID, &g.Email, &g.Name, &g.Locale,
		ts(&g.CreatedAt), ts(&g.ExpiresAt), ts(&g.UsedAt))
	return g, err
}

// CreateLegacyRegistration stores a pending registration; ErrNotFound when
// its login ID does not exist.
func (s *Store) CreateLegacyRegistration(ctx context.Context, g store.LegacyRegistration) error {
	_, err := s.exec(ctx, "create legacy registration", `INSERT INTO legacy_registrations
		(`+registrationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		g.Hash, g.ServiceID, g.LoginID, g.Email, g.Name, g.Locale,
		micros(orNow(g.CreatedAt, s.Now())), micros(g.ExpiresAt), nullMicros(g.UsedAt))
	return err
}

// GetLegacyRegistration returns a registration whatever its state.
func (s *Store) GetLegacyRegistration(ctx context.Context, hash string) (store.LegacyRegistration, error) {
	return get(s, ctx, "get legacy registration", `SELECT `+registrationCols+`
		FROM legacy_registrations WHERE token_hash = $1`, scanRegistration, hash)
}

// ConsumeLegacyRegistration marks a registration used with one conditional
// UPDATE: of concurrent calls exactly one succeeds.
func (s *Store) ConsumeLegacyRegistration(ctx context.Context, hash string, at time.Time) (store.LegacyRegistration, error) {
	const op = "consume legacy registration"
	g, err := writeRow(s, ctx, op, `UPDATE legacy_registrations SET used_at = $2
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
		RETURNING `+registrationCols, scanRegistration, hash, micros(at))
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return g, err
	}
	cur, err := s.GetLegacyRegistration(ctx, hash)
	if err != nil {
		return store.LegacyRegistration{}, err
	}
	if !cur.UsedAt.IsZero() {
		return store.LegacyRegistration{}, &Error{Op: op, Err: store.ErrAlreadyUsed}
	}
	return store.LegacyRegistration{}, &Error{Op: op, Err: fmt.Errorf("expired: %w", store.ErrNotFound)}
}
