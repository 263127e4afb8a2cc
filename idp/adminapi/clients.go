package adminapi

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/store"
)

// Clients: registration reuses idp/clients (validation, secret hashing);
// the secret is generated here and shown once.

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
	slices.SortFunc(all, func(x, y store.Client) int { return strings.Compare(x.ID, y.ID) })
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
}

// checkClient validates a registration with idp/clients and checks the
// service it names exists.
func checkClient(ctx context.Context, d interface {
	GetService(context.Context, string) (store.Service, error)
}, c store.Client) error {
	var ps problems
	ps.name("name", c.Name)
	if err := clients.Validate(c); err != nil {
		for l := range strings.SplitSeq(err.Error(), "\n") {
			ps.add("%s", l)
		}
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
	if in.ID == "" {
		id, err := a.newID()
		if err != nil {
			return err
		}
		in.ID = id
	}
	if in.AccessTokenType == "" {
		in.AccessTokenType = string(store.AccessTokenJWT)
	}
	now := a.cfg.Now()
	c := store.Client{ID: in.ID, Name: strings.TrimSpace(in.Name), ServiceID: in.ServiceID, HomeURL: in.HomeURL,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		BackchannelLogoutURI: in.BackchannelLogoutURI, GrantTypes: in.GrantTypes, Public: in.Public,
		FirstParty: in.FirstParty, AccessTokenType: store.AccessTokenType(in.AccessTokenType), CreatedAt: now, UpdatedAt: now}
	var secret string
	if !c.Public {
		var err error
		if secret, err = clients.NewSecret(a.cfg.Rand); err != nil {
			return err
		}
		c.SecretHash = clients.HashSecret(secret)
	}
	if err := checkClient(ctx, a.cfg.Store, c); err != nil {
		return err
	}
	err := a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		*ev = store.AuditEvent{Kind: "admin.client.created", ClientID: c.ID}
		return exists(tx.CreateClient(ctx, c), "a client with id "+c.ID+" exists")
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
	c.Name = strings.TrimSpace(c.Name)
}

// patchClient changes a registration; If-Match and validation run inside
// the store's update transaction.
func (a *API) patchClient(w http.ResponseWriter, r *http.Request) error {
	var in ClientPatch
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	var out store.Client
	err := a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		c, err := tx.UpdateClient(ctx, r.PathValue("id"), func(c *store.Client) error {
			if err := requireMatch(r, clientView(*c)); err != nil {
				return err
			}
			in.apply(c)
			if err := checkClient(ctx, tx, *c); err != nil {
				return err
			}
			c.UpdatedAt = a.cfg.Now()
			return nil
		})
		if err != nil {
			return notFound(err, "client")
		}
		out = c
		*ev = store.AuditEvent{Kind: "admin.client.updated", ClientID: c.ID}
		return nil
	})
	if err != nil {
		return err
	}
	v := clientView(out)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	err := a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		// An unchanged update locks the row for the check and keeps the
		// lock (an error would roll its savepoint back and, on PostgreSQL,
		// release the lock); the delete follows in the same transaction.
		if _, err := tx.UpdateClient(ctx, id, func(c *store.Client) error {
			return requireMatch(r, clientView(*c))
		}); err != nil {
			return notFound(err, "client")
		}
		*ev = store.AuditEvent{Kind: "admin.client.deleted", ClientID: id}
		return notFound(tx.DeleteClient(ctx, id), "client")
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
	ctx := r.Context()
	secret, err := clients.NewSecret(a.cfg.Rand)
	if err != nil {
		return err
	}
	var out store.Client
	err = a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		c, err := tx.UpdateClient(ctx, r.PathValue("id"), func(c *store.Client) error {
			if err := requireMatch(r, clientView(*c)); err != nil {
				return err
			}
			if c.Public {
				return errInvalid("a public client has no secret")
			}
			c.SecretHash = clients.HashSecret(secret)
			c.UpdatedAt = a.cfg.Now()
			return nil
		})
		if err != nil {
			return notFound(err, "client")
		}
		out = c
		*ev = store.AuditEvent{Kind: "admin.client.secret_rotated", ClientID: c.ID}
		return nil
	})
	if err != nil {
		return err
	}
	v := clientView(out)
	writeJSON(w, http.StatusOK, ClientWithSecret{Client: v, ClientSecret: secret}, etagOf(v))
	return nil
}
