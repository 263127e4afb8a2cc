package sqlstore

import (
	"context"

	"github.com/customerhub/hubid/store"
)

const clientCols = `id, secret_hash, name, service_id, home_url, redirect_uris,
	post_logout_redirect_uris, backchannel_logout_uri, grant_types, is_public, first_party,
	access_token_type, organization_selection, refresh_id_token, access_token_signing_algorithm,
	created_at, updated_at`

func scanClient(r scanner) (store.Client, error) {
	var c store.Client
	var refreshIDToken bool
	err := r.Scan(&c.ID, &c.SecretHash, &c.Name, &c.ServiceID, &c.HomeURL, js(&c.RedirectURIs),
		js(&c.PostLogoutRedirectURIs), &c.BackchannelLogoutURI, js(&c.GrantTypes), &c.Public,
		&c.FirstParty, &c.AccessTokenType, &c.OrganizationSelection, &refreshIDToken,
		&c.AccessTokenSigningAlgorithm, ts(&c.CreatedAt), ts(&c.UpdatedAt))
	c.OmitRefreshIDToken = !refreshIDToken
	return c, err
}

// CreateClient inserts a client; ErrAlreadyExists when the ID is taken.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	c.CreatedAt = orNow(c.CreatedAt, s.Now())
	c.UpdatedAt = orNow(c.UpdatedAt, c.CreatedAt)
	_, err := s.exec(ctx, "create client", `INSERT INTO clients (`+clientCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		c.ID, c.SecretHash, c.Name, c.ServiceID, c.HomeURL, jsonList(c.RedirectURIs),
		jsonList(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI, jsonList(c.GrantTypes),
		c.Public, c.FirstParty, string(c.AccessTokenType), string(c.OrganizationSelection),
		!c.OmitRefreshIDToken, c.AccessTokenSigningAlgorithm, micros(c.CreatedAt), micros(c.UpdatedAt))
	return err
}

// GetClient returns a client by ID.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	return get(s, ctx, "get client", `SELECT `+clientCols+` FROM clients WHERE id = $1`, scanClient, id)
}

// UpdateClient locks the client's row, calls fn, and writes the result in
// one transaction. ID and CreatedAt are kept; UpdatedAt is set to now.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(*store.Client) error) (store.Client, error) {
	var out store.Client
	err := s.withTx(ctx, func(t *Store) error {
		c, err := get(t, ctx, "update client", `SELECT `+clientCols+` FROM clients WHERE id = $1`+t.d.ForUpdate,
			scanClient, id)
		if err != nil {
			return err
		}
		old := c
		if err := fn(&c); err != nil {
			return err
		}
		c.ID, c.CreatedAt, c.UpdatedAt = old.ID, old.CreatedAt, t.Now()
		if _, err := t.q.Exec(ctx, `UPDATE clients SET secret_hash = $2, name = $3, service_id = $4,
			home_url = $5, redirect_uris = $6, post_logout_redirect_uris = $7,
			backchannel_logout_uri = $8, grant_types = $9, is_public = $10, first_party = $11,
			access_token_type = $12, organization_selection = $13, refresh_id_token = $14,
			access_token_signing_algorithm = $15, updated_at = $16 WHERE id = $1`,
			c.ID, c.SecretHash, c.Name, c.ServiceID, c.HomeURL, jsonList(c.RedirectURIs),
			jsonList(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI, jsonList(c.GrantTypes),
			c.Public, c.FirstParty, string(c.AccessTokenType), string(c.OrganizationSelection),
			!c.OmitRefreshIDToken, c.AccessTokenSigningAlgorithm, micros(c.UpdatedAt)); err != nil {
			return t.wrap("update client", err)
		}
		out = c
		return nil
	})
	if err != nil {
		return store.Client{}, err
	}
	return out, nil
}

// DeleteClient deletes a client and the consent granted to it.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete client", `DELETE FROM clients WHERE id = $1`, id)
}

// ListClients returns every client, by ID.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	return list(s, ctx, "list clients", `SELECT `+clientCols+` FROM clients ORDER BY id`, scanClient)
}
