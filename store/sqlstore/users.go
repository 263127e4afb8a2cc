package sqlstore

import (
	"context"

	"github.com/customerhub/hubid/store"
)

const userCols = `id, email, email_verified, name, locale, password_hash, disabled,
	password_changed_at, created_at, updated_at`

func scanUser(r scanner) (store.User, error) {
	var u store.User
	err := r.Scan(&u.ID, &u.Email, &u.EmailVerified, &u.Name, &u.Locale, &u.PasswordHash,
		&u.Disabled, ts(&u.PasswordChangedAt), ts(&u.CreatedAt), ts(&u.UpdatedAt))
	return u, err
}

// CreateUser inserts a user; ErrAlreadyExists when the ID, or an email that
// folds to the same, is taken.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	now := s.Now()
	u.CreatedAt = orNow(u.CreatedAt, now)
	u.UpdatedAt = orNow(u.UpdatedAt, u.CreatedAt)
	_, err := s.exec(ctx, "create user", `INSERT INTO users (id, email, email_folded,
		email_verified, name, locale, password_hash, disabled, password_changed_at,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.ID, u.Email, store.FoldEmail(u.Email), u.EmailVerified, u.Name, u.Locale,
		u.PasswordHash, u.Disabled, nullMicros(u.PasswordChangedAt), micros(u.CreatedAt),
		micros(u.UpdatedAt))
	return err
}

// GetUser returns a user by ID.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	return get(s, ctx, "get user", `SELECT `+userCols+` FROM users WHERE id = $1`, scanUser, id)
}

// GetUserByEmail returns the user whose email folds to the same as email.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	return get(s, ctx, "get user by email", `SELECT `+userCols+` FROM users WHERE email_folded = $1`,
		scanUser, store.FoldEmail(email))
}

// UpdateUser locks the user's row, calls fn, and writes the result in one
// transaction. ID and CreatedAt are kept; UpdatedAt is set to now.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	var out store.User
	err := s.withTx(ctx, func(t *Store) error {
		u, err := get(t, ctx, "update user", `SELECT `+userCols+` FROM users WHERE id = $1`+t.d.ForUpdate,
			scanUser, id)
		if err != nil {
			return err
		}
		old := u
		if err := fn(&u); err != nil {
			return err
		}
		u.ID, u.CreatedAt, u.UpdatedAt = old.ID, old.CreatedAt, t.Now()
		if _, err := t.q.Exec(ctx, `UPDATE users SET email = $2, email_folded = $3,
			email_verified = $4, name = $5, locale = $6, password_hash = $7, disabled = $8,
			password_changed_at = $9, updated_at = $10 WHERE id = $1`,
			u.ID, u.Email, store.FoldEmail(u.Email), u.EmailVerified, u.Name, u.Locale,
			u.PasswordHash, u.Disabled, nullMicros(u.PasswordChangedAt), micros(u.UpdatedAt)); err != nil {
			return t.wrap("update user", err)
		}
		out = u
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// DeleteUser deletes a user with everything that is theirs (memberships,
// links, consent, MFA, one-time tokens); their audit history stays.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete user", `DELETE FROM users WHERE id = $1`, id)
}
