package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/customerhub/hubid/store"
)

const invitationCols = `id, org_id, email, role, invited_by, created_at, expires_at, accepted_at`

func scanInvitation(r scanner) (store.Invitation, error) {
	var i store.Invitation
	err := r.Scan(&i.ID, &i.OrgID, &i.Email, &i.Role, &i.InvitedBy, ts(&i.CreatedAt),
		ts(&i.ExpiresAt), ts(&i.AcceptedAt))
	return i, err
}

// CreateInvitation inserts an invitation; ErrAlreadyExists when the ID is
// taken, ErrNotFound when the organization does not exist. A zero ExpiresAt
// never expires.
func (s *Store) CreateInvitation(ctx context.Context, i store.Invitation) error {
	_, err := s.exec(ctx, "create invitation", `INSERT INTO invitations (`+invitationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		i.ID, i.OrgID, i.Email, string(i.Role), i.InvitedBy, micros(orNow(i.CreatedAt, s.Now())),
		nullMicros(i.ExpiresAt), nullMicros(i.AcceptedAt))
	return err
}

// GetInvitation returns an invitation by ID, expired or not.
func (s *Store) GetInvitation(ctx context.Context, id string) (store.Invitation, error) {
	return get(s, ctx, "get invitation", `SELECT `+invitationCols+` FROM invitations WHERE id = $1`,
		scanInvitation, id)
}

// ListInvitationsByOrg returns an organization's invitations, oldest first.
func (s *Store) ListInvitationsByOrg(ctx context.Context, orgID string) ([]store.Invitation, error) {
	return list(s, ctx, "list invitations", `SELECT `+invitationCols+` FROM invitations
		WHERE org_id = $1 ORDER BY created_at, id`, scanInvitation, orgID)
}

// AcceptInvitation marks an invitation accepted with one conditional
// UPDATE, so that of many concurrent calls exactly one succeeds:
// ErrAlreadyUsed for the others, ErrNotFound when it is missing or expired
// at `at` (ExpiresAt <= at).
func (s *Store) AcceptInvitation(ctx context.Context, id string, at time.Time) (store.Invitation, error) {
	const op = "accept invitation"
	inv, err := writeRow(s, ctx, op, `UPDATE invitations SET accepted_at = $2
		WHERE id = $1 AND accepted_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
		RETURNING `+invitationCols, scanInvitation, id, micros(at))
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return inv, err
	}
	cur, err := s.GetInvitation(ctx, id)
	if err != nil {
		return store.Invitation{}, err
	}
	if !cur.AcceptedAt.IsZero() {
		return store.Invitation{}, &Error{Op: op, Err: store.ErrAlreadyUsed}
	}
	return store.Invitation{}, &Error{Op: op, Err: store.ErrNotFound} // expired
}

// DeleteInvitation removes an invitation; ErrNotFound when there is none.
func (s *Store) DeleteInvitation(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete invitation", `DELETE FROM invitations WHERE id = $1`, id)
}
