package sqlstore

import (
	"context"
	"time"

	"github.com/customerhub/hubid/store"
)

// PutTOTP inserts or replaces a user's authenticator; ErrNotFound when the
// user does not exist.
func (s *Store) PutTOTP(ctx context.Context, c store.TOTPCredential) error {
	_, err := s.exec(ctx, "put TOTP", `INSERT INTO totp_credentials
		(user_id, sealed, confirmed_at, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed,
		confirmed_at = excluded.confirmed_at, created_at = excluded.created_at`,
		c.UserID, blob(c.Sealed), nullMicros(c.ConfirmedAt), micros(orNow(c.CreatedAt, s.Now())))
	return err
}

// GetTOTP returns a user's authenticator.
func (s *Store) GetTOTP(ctx context.Context, userID string) (store.TOTPCredential, error) {
	return get(s, ctx, "get TOTP", `SELECT user_id, sealed, confirmed_at, created_at
		FROM totp_credentials WHERE user_id = $1`,
		func(r scanner) (store.TOTPCredential, error) {
			var c store.TOTPCredential
			err := r.Scan(&c.UserID, bs(&c.Sealed), ts(&c.ConfirmedAt), ts(&c.CreatedAt))
			return c, err
		}, userID)
}

// DeleteTOTP removes a user's authenticator; ErrNotFound when there is none.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	return s.execOne(ctx, "delete TOTP", `DELETE FROM totp_credentials WHERE user_id = $1`, userID)
}

// ReplaceRecoveryCodes replaces all of a user's recovery codes (used ones
// included) with unused codes of the given hashes, in one transaction.
// ErrAlreadyExists when a hash is repeated, ErrNotFound when the user does
// not exist.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	return s.withTx(ctx, func(t *Store) error {
		if _, err := t.q.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return t.wrap("replace recovery codes", err)
		}
		for _, h := range hashes {
			if _, err := t.q.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash, used_at)
				VALUES ($1, $2, NULL)`, userID, h); err != nil {
				return t.wrap("replace recovery codes", err)
			}
		}
		return nil
	})
}

// ListRecoveryCodes returns a user's recovery codes, by hash.
func (s *Store) ListRecoveryCodes(ctx context.Context, userID string) ([]store.RecoveryCode, error) {
	return list(s, ctx, "list recovery codes", `SELECT user_id, hash, used_at
		FROM recovery_codes WHERE user_id = $1 ORDER BY hash`,
		func(r scanner) (store.RecoveryCode, error) {
			var c store.RecoveryCode
			err := r.Scan(&c.UserID, &c.Hash, ts(&c.UsedAt))
			return c, err
		}, userID)
}

// UseRecoveryCode marks one unused code used with one conditional UPDATE,
// so that of many concurrent calls exactly one succeeds; ErrAlreadyUsed
// for the others, ErrNotFound when no code matches.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) error {
	const op = "use recovery code"
	n, err := s.exec(ctx, op, `UPDATE recovery_codes SET used_at = $3
		WHERE user_id = $1 AND hash = $2 AND used_at IS NULL`, userID, hash, micros(at))
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var used time.Time
	err = s.q.QueryRow(ctx, `SELECT used_at FROM recovery_codes WHERE user_id = $1 AND hash = $2`,
		userID, hash).Scan(ts(&used))
	if err != nil {
		return s.wrap(op, err)
	}
	return &Error{Op: op, Err: store.ErrAlreadyUsed}
}

// SetOrganizationRequireMFA sets an organization's two-step policy;
// ErrNotFound when there is no such organization.
func (s *Store) SetOrganizationRequireMFA(ctx context.Context, orgID string, on bool) error {
	return s.execOne(ctx, "set organization require_mfa",
		`UPDATE organizations SET require_mfa = $2 WHERE id = $1`, orgID, on)
}
