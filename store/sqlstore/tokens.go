package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/customerhub/hubid/store"
)

const tokenCols = `hash, kind, user_id, email, created_at, expires_at, used_at`

func scanToken(r scanner) (store.OneTimeToken, error) {
	var t store.OneTimeToken
	err := r.Scan(&t.Hash, &t.Kind, &t.UserID, &t.Email, ts(&t.CreatedAt), ts(&t.ExpiresAt), ts(&t.UsedAt))
	return t, err
}

// CreateOneTimeToken inserts a token; ErrAlreadyExists when the hash is
// taken, ErrNotFound when the user does not exist. A zero ExpiresAt never
// expires.
func (s *Store) CreateOneTimeToken(ctx context.Context, t store.OneTimeToken) error {
	_, err := s.exec(ctx, "create one-time token", `INSERT INTO one_time_tokens (`+tokenCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.Hash, string(t.Kind), t.UserID, t.Email, micros(orNow(t.CreatedAt, s.Now())),
		nullMicros(t.ExpiresAt), nullMicros(t.UsedAt))
	return err
}

// ConsumeOneTimeToken marks a token used with one conditional UPDATE, so
// that of many concurrent calls exactly one succeeds: ErrAlreadyUsed for
// the others, ErrNotFound when it is missing, of another kind, or expired
// at `at` (ExpiresAt <= at).
func (s *Store) ConsumeOneTimeToken(ctx context.Context, hash string, kind store.OneTimeTokenKind, at time.Time) (store.OneTimeToken, error) {
	const op = "consume one-time token"
	tok, err := writeRow(s, ctx, op, `UPDATE one_time_tokens SET used_at = $3
		WHERE hash = $1 AND kind = $2 AND used_at IS NULL AND (expires_at IS NULL OR expires_at > $3)
		RETURNING `+tokenCols, scanToken, hash, string(kind), micros(at))
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return tok, err
	}
	cur, err := get(s, ctx, op, `SELECT `+tokenCols+` FROM one_time_tokens WHERE hash = $1`, scanToken, hash)
	if err != nil {
		return store.OneTimeToken{}, err
	}
	if cur.Kind == kind && !cur.UsedAt.IsZero() {
		return store.OneTimeToken{}, &Error{Op: op, Err: store.ErrAlreadyUsed}
	}
	return store.OneTimeToken{}, &Error{Op: op, Err: store.ErrNotFound} // other kind, or expired
}

// DeleteOneTimeTokens removes a user's unused tokens of a kind.
func (s *Store) DeleteOneTimeTokens(ctx context.Context, userID string, kind store.OneTimeTokenKind) error {
	_, err := s.exec(ctx, "delete one-time tokens", `DELETE FROM one_time_tokens
		WHERE user_id = $1 AND kind = $2 AND used_at IS NULL`, userID, string(kind))
	return err
}
