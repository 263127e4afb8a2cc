package sqlstore

import (
	"context"

	"github.com/customerhub/hubid/store"
)

// CreateLegacyLoginID inserts a legacy login ID; ErrAlreadyExists when the
// service has that login ID already, ErrNotFound when the service or the
// organization does not exist.
func (s *Store) CreateLegacyLoginID(ctx context.Context, l store.LegacyLoginID) error {
	_, err := s.exec(ctx, "create legacy login ID", `INSERT INTO legacy_login_ids
		(service_id, login_id, org_id, password_hash, disabled, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		l.ServiceID, l.LoginID, l.OrgID, l.PasswordHash, l.Disabled, micros(orNow(l.CreatedAt, s.Now())))
	return err
}

// GetLegacyLoginID returns a service's legacy login ID (exact match).
func (s *Store) GetLegacyLoginID(ctx context.Context, serviceID, loginID string) (store.LegacyLoginID, error) {
	return get(s, ctx, "get legacy login ID", `SELECT login_id, service_id, org_id, password_hash,
		disabled, created_at FROM legacy_login_ids WHERE service_id = $1 AND login_id = $2`,
		func(r scanner) (store.LegacyLoginID, error) {
			var l store.LegacyLoginID
			err := r.Scan(&l.LoginID, &l.ServiceID, &l.OrgID, &l.PasswordHash, &l.Disabled, ts(&l.CreatedAt))
			return l, err
		}, serviceID, loginID)
}

// CreateLegacyLink links a legacy login ID to a user: ErrAlreadyExists when
// the user has a link for that service or the login ID is linked already,
// ErrNotFound when the user or the login ID does not exist.
func (s *Store) CreateLegacyLink(ctx context.Context, l store.LegacyLink) error {
	_, err := s.exec(ctx, "create legacy link", `INSERT INTO legacy_links
		(user_id, service_id, login_id, linked_at) VALUES ($1, $2, $3, $4)`,
		l.UserID, l.ServiceID, l.LoginID, micros(orNow(l.LinkedAt, s.Now())))
	return err
}

// ListLegacyLinksByUser returns a user's links, by service ID.
func (s *Store) ListLegacyLinksByUser(ctx context.Context, userID string) ([]store.LegacyLink, error) {
	return list(s, ctx, "list legacy links", `SELECT user_id, service_id, login_id, linked_at
		FROM legacy_links WHERE user_id = $1 ORDER BY service_id`,
		func(r scanner) (store.LegacyLink, error) {
			var l store.LegacyLink
			err := r.Scan(&l.UserID, &l.ServiceID, &l.LoginID, ts(&l.LinkedAt))
			return l, err
		}, userID)
}
