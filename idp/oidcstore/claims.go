package oidcstore

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// The organization claims (`orgs`, `roles`, `org`; scope "roles") are
// computed at every token issue — code exchange and refresh — and again at
// every userinfo and introspection request, from the durable store or
// from idp/claimcache, which every write that changes them evicts (on
// the writing replica before the write returns, on the others when its
// announcement arrives): a role change, a removal or a lost entitlement
// shows at the next of these. Whether the person may still use the
// client's service is checked at every issue whatever the scopes, so a
// person removed from their last entitled organization gets invalid_grant
// on refresh. The organization selected at sign-in travels in the auth
// request, the refresh token and the access token's ID; its name and the
// person's role in it are read (through the cache) each time.

// orgClaims computes the claims of userID for a client, with selected the
// organization chosen at sign-in ("" = none).
func (s *Storage) orgClaims(ctx context.Context, userID, clientID, selected string) (orgs.Claims, error) {
	c, err := s.client(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return orgs.Claims{}, orgs.ErrNotEntitled // the client is gone
	}
	if err != nil {
		return orgs.Claims{}, err
	}
	return orgs.ComputeClaims(ctx, s.claims, userID, c.ServiceID, selected)
}

// entitlementLost reports whether err means the person may no longer get
// tokens for the client (as opposed to a failure to find out).
func entitlementLost(err error) bool {
	return errors.Is(err, orgs.ErrNotEntitled) || errors.Is(err, orgs.ErrOrgNotMember) || errors.Is(err, orgs.ErrOrgNotEntitled)
}

// grantClaimsError is the token endpoint's answer when the claims cannot
// be computed: invalid_grant when the entitlement is gone, else a server
// error (temporarily_unavailable for an outage).
func (s *Storage) grantClaimsError(ctx context.Context, err error) error {
	if entitlementLost(err) {
		return oidc.ErrInvalidGrant().WithDescription("the account may no longer use this service (or the organization selected at sign-in); sign in again")
	}
	return s.serverError(ctx, "organization claims", err)
}

// requestClaims returns the claims of a token request, computing them once
// per request (op mints the access token, then the ID token, from the same
// request value). Client-credentials requests have none (nil).
func (s *Storage) requestClaims(ctx context.Context, req op.TokenRequest) (*orgs.Claims, error) {
	var slot **orgs.Claims
	var user, client, selected string
	switch r := req.(type) {
	case *AuthRequest:
		slot, user, client, selected = &r.claims, r.r.UserID, r.r.ClientID, r.r.OrgID
	case *RefreshRequest:
		slot, user, client, selected = &r.claims, r.t.UserID, r.t.ClientID, r.t.OrgID
	default:
		return nil, nil
	}
	if *slot != nil {
		return *slot, nil
	}
	c, err := s.orgClaims(ctx, user, client, selected)
	if err != nil {
		return nil, s.grantClaimsError(ctx, err)
	}
	*slot = &c
	return &c, nil
}

// selectedOrg is the organization a token request selected ("" = none).
func selectedOrg(req op.TokenRequest) string {
	switch r := req.(type) {
	case *AuthRequest:
		return r.r.OrgID
	case *RefreshRequest:
		return r.t.OrgID
	}
	return ""
}

// wantsRoles reports whether the scopes ask for the organization claims.
func wantsRoles(scopes []string) bool { return slices.Contains(scopes, ScopeRoles) }

// addClaims copies the organization claims into m (nil c adds nothing).
func addClaims(m map[string]any, c *orgs.Claims) {
	if c != nil {
		maps.Copy(m, c.Map())
	}
}

// OrgHintParam is the authorization request parameter that names the
// organization to select for the sign-in, by code.
const OrgHintParam = "org_hint"

type orgHintKey struct{}

// CaptureOrgHint is an op interceptor: op hands storage only the
// parameters it knows, so the org_hint of an authorization request is put
// in the context, where CreateAuthRequest finds it.
func CaptureOrgHint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/authorize" {
			if err := r.ParseForm(); err == nil && r.Form[OrgHintParam] != nil {
				r = r.WithContext(context.WithValue(r.Context(), orgHintKey{}, r.Form[OrgHintParam]))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// orgHintFrom returns the org_hint captured for this request.
func orgHintFrom(ctx context.Context) []string {
	v, _ := ctx.Value(orgHintKey{}).([]string)
	return v
}

var orgCodeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkOrgHint returns the one org_hint of the request ("" = none), or
// invalid_request when it is repeated or cannot be an organization code.
func checkOrgHint(ctx context.Context) (string, error) {
	v := orgHintFrom(ctx)
	switch {
	case len(v) == 0:
		return "", nil
	case len(v) > 1:
		return "", oidc.ErrInvalidRequest().WithDescription("org_hint must be given once")
	case !orgCodeRE.MatchString(v[0]):
		return "", oidc.ErrInvalidRequest().WithDescription("org_hint must be an organization code")
	}
	return v[0], nil
}
