package sqlstore

import (
	"context"

	"github.com/customerhub/hubid/store"
)

func scanConsent(r scanner) (store.ConsentGrant, error) {
	var g store.ConsentGrant
	err := r.Scan(&g.UserID, &g.ClientID, js(&g.Scopes), ts(&g.CreatedAt), ts(&g.UpdatedAt))
	return g, err
}

// PutConsent inserts a grant or replaces its scopes and UpdatedAt; a
// replaced grant keeps its first CreatedAt. ErrNotFound when the user or
// the client does not exist.
func (s *Store) PutConsent(ctx context.Context, g store.ConsentGrant) error {
	now := s.Now()
	created := orNow(g.CreatedAt, now)
	_, err := s.exec(ctx, "put consent", `INSERT INTO consents
		(user_id, client_id, scopes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes,
		updated_at = excluded.updated_at`,
		g.UserID, g.ClientID, jsonList(g.Scopes), micros(created), micros(orNow(g.UpdatedAt, now)))
	return err
}

// GetConsent returns the grant of a user to a client.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (store.ConsentGrant, error) {
	return get(s, ctx, "get consent", `SELECT user_id, client_id, scopes, created_at, updated_at
		FROM consents WHERE user_id = $1 AND client_id = $2`, scanConsent, userID, clientID)
}

// ListConsentsByUser returns a user's grants, by client ID.
func (s *Store) ListConsentsByUser(ctx context.Context, userID string) ([]store.ConsentGrant, error) {
	return list(s, ctx, "list consents", `SELECT user_id, client_id, scopes, created_at, updated_at
		FROM consents WHERE user_id = $1 ORDER BY client_id`, scanConsent, userID)
}

// DeleteConsent removes a grant; ErrNotFound when there is none.
func (s *Store) DeleteConsent(ctx context.Context, userID, clientID string) error {
	return s.execOne(ctx, "delete consent",
		`DELETE FROM consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
}
