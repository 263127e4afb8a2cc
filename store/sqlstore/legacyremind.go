package sqlstore

import (
	"context"
	"time"

	"github.com/customerhub/hubid/store"
)

// ListLegacyReminders returns login IDs due the reminder mail (see
// store.LegacyBulkStore).
func (s *Store) ListLegacyReminders(ctx context.Context, limit int) ([]store.LegacyReminder, error) {
	return list(s, ctx, "list legacy reminders", `SELECT l.service_id, v.code, v.name, l.login_id, o.id, o.code, o.name, l.contact_email
		FROM legacy_login_ids l
		JOIN services v ON v.id = l.service_id
		JOIN organizations o ON o.id = l.org_id
		WHERE l.contact_email <> '' AND l.password_hash <> '' AND l.reminded_at IS NULL AND NOT l.disabled
			AND NOT EXISTS (SELECT 1 FROM legacy_links k WHERE k.service_id = l.service_id AND k.login_id = l.login_id)
		ORDER BY v.code, l.login_id
		LIMIT $1`,
		func(r scanner) (store.LegacyReminder, error) {
			var x store.LegacyReminder
			err := r.Scan(&x.ServiceID, &x.ServiceCode, &x.ServiceName, &x.LoginID, &x.OrgID, &x.OrgCode, &x.OrgName, &x.ContactEmail)
			return x, err
		}, limit)
}

// MarkLegacyReminded sets reminded_at once: of concurrent calls (several
// replicas) exactly one changes the row; the others get ErrAlreadyUsed.
func (s *Store) MarkLegacyReminded(ctx context.Context, serviceID, loginID string, at time.Time) error {
	const op = "mark legacy reminded"
	n, err := s.exec(ctx, op, `UPDATE legacy_login_ids SET reminded_at = $3
		WHERE service_id = $1 AND login_id = $2 AND reminded_at IS NULL`, serviceID, loginID, micros(at))
	if err != nil || n == 1 {
		return err
	}
	if _, err := s.GetLegacyLoginID(ctx, serviceID, loginID); err != nil {
		return err
	}
	return &Error{Op: op, Err: store.ErrAlreadyUsed}
}
