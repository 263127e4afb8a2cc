package sqlstore

import (
	"context"

	"github.com/customerhub/hubid/store"
)

const applicationCols = `id, org_id, service_id, applicant_id, note, status, reason, decided_by,
	created_at, decided_at`

func scanApplication(r scanner) (store.ServiceApplication, error) {
	var a store.ServiceApplication
	err := r.Scan(&a.ID, &a.OrgID, &a.ServiceID, &a.ApplicantID, &a.Note, &a.Status, &a.Reason,
		&a.DecidedBy, ts(&a.CreatedAt), ts(&a.DecidedAt))
	return a, err
}

// CreateServiceApplication inserts an application; ErrAlreadyExists when
// the ID is taken or the organization has a pending application for the
// service (a partial unique index), ErrNotFound when either is missing.
func (s *Store) CreateServiceApplication(ctx context.Context, a store.ServiceApplication) error {
	_, err := s.exec(ctx, "create service application", `INSERT INTO service_applications
		(`+applicationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.ID, a.OrgID, a.ServiceID, a.ApplicantID, a.Note, string(a.Status), a.Reason, a.DecidedBy,
		micros(orNow(a.CreatedAt, s.Now())), nullMicros(a.DecidedAt))
	return err
}

// GetServiceApplication returns an application by ID.
func (s *Store) GetServiceApplication(ctx context.Context, id string) (store.ServiceApplication, error) {
	return get(s, ctx, "get service application", `SELECT `+applicationCols+`
		FROM service_applications WHERE id = $1`, scanApplication, id)
}

// ListServiceApplications returns the applications f selects, newest
// first.
func (s *Store) ListServiceApplications(ctx context.Context, f store.ApplicationFilter) ([]store.ServiceApplication, error) {
	w := &where{}
	if f.OrgID != "" {
		w.add("org_id = " + w.arg(f.OrgID))
	}
	if f.Status != "" {
		w.add("status = " + w.arg(string(f.Status)))
	}
	return list(s, ctx, "list service applications", `SELECT `+applicationCols+` FROM service_applications`+
		w.String()+` ORDER BY created_at DESC, id DESC`, scanApplication, w.args...)
}

// UpdateServiceApplication locks an application, calls fn, and writes the
// result; ID, OrgID, ServiceID and CreatedAt are kept.
func (s *Store) UpdateServiceApplication(ctx context.Context, id string, fn func(*store.ServiceApplication) error) (store.ServiceApplication, error) {
	const op = "update service application"
	var out store.ServiceApplication
	err := s.withTx(ctx, func(t *Store) error {
		a, err := get(t, ctx, op, `SELECT `+applicationCols+` FROM service_applications WHERE id = $1`+t.d.ForUpdate,
			scanApplication, id)
		if err != nil {
			return err
		}
		old := a
		if err := fn(&a); err != nil {
			return err
		}
		a.ID, a.OrgID, a.ServiceID, a.CreatedAt = old.ID, old.OrgID, old.ServiceID, old.CreatedAt
		if _, err := t.q.Exec(ctx, `UPDATE service_applications SET applicant_id = $2, note = $3,
			status = $4, reason = $5, decided_by = $6, decided_at = $7 WHERE id = $1`,
			a.ID, a.ApplicantID, a.Note, string(a.Status), a.Reason, a.DecidedBy, nullMicros(a.DecidedAt)); err != nil {
			return t.wrap(op, err)
		}
		out = a
		return nil
	})
	if err != nil {
		return store.ServiceApplication{}, err
	}
	return out, nil
}
