package oidcstore

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/customerhub/hubid/store"
)

// Client adapts a store.Client to op.Client.
type Client struct {
	c        store.Client
	loginURL func(authRequestID string) string
	idTTL    time.Duration
	skew     time.Duration
}

var _ op.Client = (*Client)(nil)

// Record returns the stored client.
func (c *Client) Record() store.Client { return c.c }

// GetID returns the client ID.
func (c *Client) GetID() string { return c.c.ID }

// RedirectURIs are matched exactly (no globs: HasRedirectGlobs is not implemented).
func (c *Client) RedirectURIs() []string { return c.c.RedirectURIs }

// PostLogoutRedirectURIs are matched exactly.
func (c *Client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ApplicationType is always web: exact redirect URI matching, no loopback
// port relaxation (registration refuses http for non-loopback hosts).
func (c *Client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

// AuthMethod: none for public clients, else basic (post is accepted too).
func (c *Client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes: code only (no implicit or hybrid flows).
func (c *Client) ResponseTypes() []oidc.ResponseType {
	if slices.Contains(c.c.GrantTypes, string(oidc.GrantTypeCode)) {
		return []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	return nil
}

// GrantTypes lists the grants registered for the client.
func (c *Client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, 0, len(c.c.GrantTypes))
	for _, g := range c.c.GrantTypes {
		out = append(out, oidc.GrantType(g))
	}
	return out
}

// LoginURL is the sign-in page for a pending auth request.
func (c *Client) LoginURL(id string) string { return c.loginURL(id) }

// AccessTokenType is JWT unless the client asked for opaque tokens.
func (c *Client) AccessTokenType() op.AccessTokenType {
	if c.c.AccessTokenType == store.AccessTokenOpaque {
		return op.AccessTokenTypeBearer
	}
	return op.AccessTokenTypeJWT
}

// IDTokenLifetime is the configured ID token lifetime.
func (c *Client) IDTokenLifetime() time.Duration { return c.idTTL }

// DevMode lets op accept an exactly matching http redirect URI; client
// registration allows http only for loopback hosts, so this never admits a
// non-loopback http URI.
func (c *Client) DevMode() bool { return true }

// RestrictAdditionalIdTokenScopes keeps all scopes.
func (c *Client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// RestrictAdditionalAccessTokenScopes keeps all scopes.
func (c *Client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits our custom scope "roles" beyond the standard ones.
func (c *Client) IsScopeAllowed(scope string) bool { return scope == ScopeRoles }

// IDTokenUserinfoClaimsAssertion puts profile and email claims in the ID
// token (clients need not call userinfo).
func (c *Client) IDTokenUserinfoClaimsAssertion() bool { return true }

// ClockSkew tolerated in tokens' iat/nbf.
func (c *Client) ClockSkew() time.Duration { return c.skew }

// ScopeRoles requests the organization and role claims.
const ScopeRoles = "roles"
