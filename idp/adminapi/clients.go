package adminapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/store"
)

// Clients: registration through idp/clients (validation, generated
// secret shown once, audit), as `hubid clients`.

func (a *API) listClients(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	all, err := a.cfg.Store.ListClients(r.Context())
	if err != nil {
		return err
	}
	svc := r.URL.Query().Get("service_id")
	all = slices.DeleteFunc(all, func(c store.Client) bool { return svc != "" && c.ServiceID != svc })
	writeJSON(w, http.StatusOK, paginate(all, p, func(c store.Client) string { return c.ID }, clientView), "")
	return nil
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request) error {
	c, err := a.cfg.Store.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFound(err, "client")
	}
	v := clientView(c)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// ClientCreate is the body of POST /clients. A confidential client (public
// false) gets a generated secret, returned once in client_secret.
type ClientCreate struct {
	ID                     string   `json:"id,omitempty"` // generated when absent
	Name                   string   `json:"name"`
	ServiceID              string   `json:"service_id,omitempty"`
	HomeURL                string   `json:"home_url,omitempty"`
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri,omitempty"`
	GrantTypes             []string `json:"grant_types"`
	Public                 bool     `json:"public,omitempty"`
	FirstParty             bool     `json:"first_party,omitempty"`
	AccessTokenType        string   `json:"access_token_type,omitempty"` // jwt (default) or opaque
	// RefreshIDToken false: refresh answers carry no ID token (default true).
	RefreshIDToken *bool `json:"refresh_id_token,omitempty"`
	// AccessTokenSigningAlgorithm: RS256 (default) or ES256.
	AccessTokenSigningAlgorithm string `json:"access_token_signing_algorithm,omitempty"`
}

// checkClient checks what idp/clients does not: a name, and that the
// service named exists (clients.Register and Update validate the rest).
func checkClient(ctx context.Context, d interface {
	GetService(context.Context, string) (store.Service, error)
}, c store.Client) error {
	var ps problems
	if c.Name == "" || len(c.Name) > 200 || strings.ContainsFunc(c.Name, unicode.IsControl) {
		ps.add("name: 1-200 bytes of text")
	}
	if c.ServiceID != "" {
		if _, err := d.GetService(ctx, c.ServiceID); apperr.CodeOf(err) == apperr.NotFound {
			ps.add("service_id: no such service")
		} else if err != nil {
			return err
		}
	}
	return ps.err()
}

func (a *API) createClient(w http.ResponseWriter, r *http.Request) error {
	var in ClientCreate
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	c := store.Client{ID: in.ID, Name: strings.TrimSpace(in.Name), ServiceID: in.ServiceID, HomeURL: in.HomeURL,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		BackchannelLogoutURI: in.BackchannelLogoutURI, GrantTypes: in.GrantTypes, Public: in.Public,
		FirstParty: in.FirstParty, AccessTokenType: store.AccessTokenType(in.AccessTokenType),
		OmitRefreshIDToken: in.RefreshIDToken != nil && !*in.RefreshIDToken, AccessTokenSigningAlgorithm: in.AccessTokenSigningAlgorithm}
	if c.AccessTokenType == "" {
		c.AccessTokenType = store.AccessTokenJWT
	}
	if err := checkClient(ctx, a.cfg.Store, c); err != nil {
		return err
	}
	var secret string
	err := a.cfg.Store.InTx(ctx, func(tx store.Durable) error {
		var err error
		c, secret, err = clients.Register(ctx, tx, c, ActorOf(ctx).AuditID(), a.cfg.Now(), a.cfg.Rand)
		return err
	})
	if err != nil {
		return err
	}
	v := clientView(c)
	w.Header().Set("Location", Prefix+"/clients/"+c.ID)
	writeJSON(w, http.StatusCreated, ClientWithSecret{Client: v, ClientSecret: secret}, etagOf(v))
	return nil
}

// ClientPatch is the body of PATCH /clients/{id}: the fields to change
// (lists are replaced whole). Whether a client is public cannot change.
type ClientPatch struct {
	Name                   *string   `json:"name,omitempty"`
	ServiceID              *string   `json:"service_id,omitempty"`
	HomeURL                *string   `json:"home_url,omitempty"`
	RedirectURIs           *[]string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI   *string   `json:"backchannel_logout_uri,omitempty"`
	GrantTypes             *[]string `json:"grant_types,omitempty"`
	FirstParty             *bool     `json:"first_party,omitempty"`
	AccessTokenType        *string   `json:"access_token_type,omitempty"`
	RefreshIDToken         *bool     `json:"refresh_id_token,omitempty"`
	// AccessTokenSigningAlgorithm: RS256 or ES256.
	AccessTokenSigningAlgorithm *string `json:"access_token_signing_algorithm,omitempty"`
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func (in ClientPatch) apply(c *store.Client) {
	set(&c.Name, in.Name)
	set(&c.ServiceID, in.ServiceID)
	set(&c.HomeURL, in.HomeURL)
	set(&c.RedirectURIs, in.RedirectURIs)
	set(&c.PostLogoutRedirectURIs, in.PostLogoutRedirectURIs)
	set(&c.BackchannelLogoutURI, in.BackchannelLogoutURI)
	set(&c.GrantTypes, in.GrantTypes)
	set(&c.FirstParty, in.FirstParty)
	if in.AccessTokenType != nil {
		c.AccessTokenType = store.AccessTokenType(*in.AccessTokenType)
	}
	if in.RefreshIDToken != nil {
		c.OmitRefreshIDToken = !*in.RefreshIDToken
	}
	set(&c.AccessTokenSigningAlgorithm, in.AccessTokenSigningAlgorithm)
	c.Name = strings.TrimSpace(c.Name)
}

// clientTx runs a registration change in one transaction after locking
// the client's row and checking If-Match against it.
func (a *API) clientTx(r *http.Request, fn func(tx store.Durable, actor string) error) error {
	ctx := r.Context()
	return a.cfg.Store.InTx(ctx, func(tx store.Durable) error {
		_, err := tx.UpdateClient(ctx, r.PathValue("id"), func(c *store.Client) error { return requireMatch(r, clientView(*c)) })
		if err != nil {
			return notFound(err, "client")
		}
		return fn(tx, ActorOf(ctx).AuditID())
	})
}

// patchClient changes a registration by the rules of idp/clients.
func (a *API) patchClient(w http.ResponseWriter, r *http.Request) error {
	var in ClientPatch
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx, id := r.Context(), r.PathValue("id")
	var out store.Client
	err := a.clientTx(r, func(tx store.Durable, actor string) error {
		var err error
		out, err = clients.Update(ctx, tx, id, func(c *store.Client) error {
			in.apply(c)
			c.UpdatedAt = a.cfg.Now()
			return checkClient(ctx, tx, *c)
		}, actor, a.cfg.Now())
		return err
	})
	if err != nil {
		return err
	}
	v := clientView(out)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) error {
	err := a.clientTx(r, func(tx store.Durable, actor string) error {
		return notFound(clients.Delete(r.Context(), tx, r.PathValue("id"), actor, a.cfg.Now()), "client")
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateClientSecret replaces a confidential client's secret and returns
// the new one, once. The old secret stops working at once.
func (a *API) rotateClientSecret(w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	var secret string
	var out store.Client
	err := a.clientTx(r, func(tx store.Durable, actor string) error {
		var err error
		if secret, err = clients.RotateSecret(ctx, tx, id, actor, a.cfg.Now(), a.cfg.Rand); err != nil {
			return err
		}
		out, err = tx.GetClient(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	v := clientView(out)
	writeJSON(w, http.StatusOK, ClientWithSecret{Client: v, ClientSecret: secret}, etagOf(v))
	return nil
}
