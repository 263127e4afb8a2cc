package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/customerhub/hubid/store"
)

const invitationCols = `id, token_hash, org_id, email, role, invited_by, created_at, expires_at,
	accepted_at, accepted_by, cancelled_at`

func scanInvitation(r scanner) (store.Invitation, error) {
	var i store.Invitation
	err := r.Scan(&i.ID, &i.TokenHash, &i.OrgID, &i.Email, &i.Role, &i.InvitedBy, ts(&i.CreatedAt),
		ts(&i.ExpiresAt), ts(&i.AcceptedAt), &i.AcceptedBy, ts(&i.CancelledAt))
	return i, err
}

// CreateInvitation inserts an invitation; ErrAlreadyExists when the ID or
// the token hash is taken, ErrNotFound when the organization does not
// exist. A zero ExpiresAt never expires; an empty TokenHash is the ID.
func (s *Store) CreateInvitation(ctx context.Context, i store.Invitation) error {
	if i.TokenHash == "" {
		i.TokenHash = i.ID
	}
	_, err := s.exec(ctx, "create invitation", `INSERT INTO invitations (`+invitationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		i.ID, i.TokenHash, i.OrgID, i.Email, string(i.Role), i.InvitedBy, micros(orNow(i.CreatedAt, s.Now())),
		nullMicros(i.ExpiresAt), nullMicros(i.AcceptedAt), i.AcceptedBy, nullMicros(i.CancelledAt))
	return err
}

// GetInvitation returns an invitation by ID, expired or not.
func (s *Store) GetInvitation(ctx context.Context, id string) (store.Invitation, error) {
	return get(s, ctx, "get invitation", `SELECT `+invitationCols+` FROM invitations WHERE id = $1`,
		scanInvitation, id)
}

// GetInvitationByToken returns an invitation by the hash of its token.
func (s *Store) GetInvitationByToken(ctx context.Context, tokenHash string) (store.Invitation, error) {
	return get(s, ctx, "get invitation by token", `SELECT `+invitationCols+` FROM invitations
		WHERE token_hash = $1`, scanInvitation, tokenHash)
}

// ListInvitationsByOrg returns an organization's invitations, oldest first.
func (s *Store) ListInvitationsByOrg(ctx context.Context, orgID string) ([]store.Invitation, error) {
	return list(s, ctx, "list invitations", `SELECT `+invitationCols+` FROM invitations
		WHERE org_id = $1 ORDER BY created_at, id`, scanInvitation, orgID)
}

// UpdateInvitation locks an invitation, calls fn, and writes the result;
// ID, OrgID and CreatedAt are kept. A token hash another invitation has is
// ErrAlreadyExists.
func (s *Store) UpdateInvitation(ctx context.Context, id string, fn func(*store.Invitation) error) (store.Invitation, error) {
	const op = "update invitation"
	var out store.Invitation
	err := s.withTx(ctx, func(t *Store) error {
		i, err := get(t, ctx, op, `SELECT `+invitationCols+` FROM invitations WHERE id = $1`+t.d.ForUpdate,
			scanInvitation, id)
		if err != nil {
			return err
		}
		old := i
		if err := fn(&i); err != nil {
			return err
		}
		i.ID, i.OrgID, i.CreatedAt = old.ID, old.OrgID, old.CreatedAt
		if _, err := t.q.Exec(ctx, `UPDATE invitations SET token_hash = $2, email = $3, role = $4,
			invited_by = $5, expires_at = $6, accepted_at = $7, accepted_by = $8, cancelled_at = $9
			WHERE id = $1`, i.ID, i.TokenHash, i.Email, string(i.Role), i.InvitedBy, nullMicros(i.ExpiresAt),
			nullMicros(i.AcceptedAt), i.AcceptedBy, nullMicros(i.CancelledAt)); err != nil {
			return t.wrap(op, err)
		}
		out = i
		return nil
	})
	if err != nil {
		return store.Invitation{}, err
	}
	return out, nil
}

// AcceptInvitation marks an invitation accepted by userID with one
// conditional UPDATE, so that of many concurrent calls exactly one
// succeeds: ErrAlreadyUsed for the others, ErrRevoked when it was
// cancelled, ErrNotFound when it is missing or expired at `at`
// (ExpiresAt <= at).
func (s *Store) AcceptInvitation(ctx context.Context, id, userID string, at time.Time) (store.Invitation, error) {
	const op = "accept invitation"
	inv, err := writeRow(s, ctx, op, `UPDATE invitations SET accepted_at = $2, accepted_by = $3
		WHERE id = $1 AND accepted_at IS NULL AND cancelled_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
		RETURNING `+invitationCols, scanInvitation, id, micros(at), userID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return inv, err
	}
	cur, err := s.GetInvitation(ctx, id)
	switch {
	case err != nil:
		return store.Invitation{}, err
	case !cur.AcceptedAt.IsZero():
		return store.Invitation{}, &Error{Op: op, Err: store.ErrAlreadyUsed}
	case !cur.CancelledAt.IsZero():
		return store.Invitation{}, &Error{Op: op, Err: store.ErrRevoked}
	}
	return store.Invitation{}, &Error{Op: op, Err: store.ErrNotFound} // expired
}

// DeleteInvitation removes an invitation; ErrNotFound when there is none.
func (s *Store) DeleteInvitation(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete invitation", `DELETE FROM invitations WHERE id = $1`, id)
}
