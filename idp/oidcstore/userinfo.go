package oidcstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/customerhub/hubid/store"
)

// setUserClaims fills the standard claims allowed by scopes.
func setUserClaims(info *oidc.UserInfo, u store.User, scopes []string) {
	info.Subject = u.ID
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email = u.Email
		info.EmailVerified = oidc.Bool(u.EmailVerified)
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = u.Name
		if u.Locale != "" {
			info.Locale = oidc.NewLocale(language.Make(u.Locale))
		}
		info.UpdatedAt = oidc.FromTime(u.UpdatedAt)
	}
}

func (s *Storage) loadUser(ctx context.Context, id string) (store.User, error) {
	u, err := s.user(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return u, oidc.ErrAccessDenied().WithDescription("the account is not available")
	}
	if err != nil {
		return u, s.serverError(ctx, "load user", err)
	}
	return u, nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest is used.
func (s *Storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims.
func (s *Storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	u, err := s.loadUser(ctx, req.GetSubject())
	if err != nil {
		return err
	}
	setUserClaims(info, u, scopes)
	if wantsRoles(req.GetScopes()) {
		c, err := s.requestClaims(ctx, req)
		if err != nil {
			return err
		}
		if c != nil {
			for k, v := range c.Map() {
				info.AppendClaims(k, v)
			}
		}
	}
	if err := s.setLegacyClaim(ctx, u.ID, req.GetClientID(), scopes, info.AppendClaims); err != nil {
		return err
	}
	// op puts neither sid nor, on refresh, acr in ID tokens; registered
	// claims win over these when op does set them.
	switch r := req.(type) {
	case *AuthRequest:
		if r.r.SessionID != "" {
			info.AppendClaims("sid", r.r.SessionID)
		}
	case *RefreshRequest:
		if r.t.SessionID != "" {
			info.AppendClaims("sid", r.t.SessionID)
		}
		info.AppendClaims("acr", ACRFor(r.t.AMR))
	}
	return nil
}

// Userinfo errors (RFC 6750 §3.1); idp/oauthstrict turns them into 401
// or 403 with a Bearer challenge.
func invalidToken(desc string) error {
	return &oidc.Error{ErrorType: "invalid_token", Description: desc}
}

// SetUserinfoFromToken answers userinfo for a verified access token; it
// refuses expired and revoked tokens (op does not check either), tokens
// of an unavailable account (invalid_token), and tokens without the
// openid scope, e.g. client credentials tokens (insufficient_scope).
func (s *Storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	a, err := decodeAccessInfo(tokenID)
	if err != nil || a.Subject != subject {
		return errNotAccessToken()
	}
	u, err := s.userinfoCheck(ctx, a)
	if err != nil {
		return err
	}
	return s.fillUserinfo(ctx, a, u, info)
}

func errNotAccessToken() error { return invalidToken("the token is not an access token") }

// userinfoCheck is what userinfo checks at every request, cached token
// or not (TokenInfo): expiry, revocation, scope and the account. It
// returns the user the answer is made of.
func (s *Storage) userinfoCheck(ctx context.Context, a accessInfo) (store.User, error) {
	ok, err := s.accessActive(ctx, a)
	if err != nil {
		return store.User{}, s.serverError(ctx, "check revocation", err)
	}
	if !ok {
		return store.User{}, invalidToken("the token is expired or revoked")
	}
	if a.Subject == a.Client || !slices.Contains(a.Scopes, oidc.ScopeOpenID) {
		return store.User{}, &oidc.Error{ErrorType: "insufficient_scope", Description: "userinfo needs a token with the openid scope"}
	}
	u, err := s.user(ctx, a.Subject)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return u, invalidToken("the account is not available")
	}
	if err != nil {
		return u, s.serverError(ctx, "load user", err)
	}
	return u, nil
}

// fillUserinfo sets the claims of userinfo: the user's, and for scope
// roles the organization and legacy claims, read fresh.
func (s *Storage) fillUserinfo(ctx context.Context, a accessInfo, u store.User, info *oidc.UserInfo) error {
	setUserClaims(info, u, a.Scopes)
	if wantsRoles(a.Scopes) {
		c, err := s.orgClaims(ctx, a.Subject, a.Client, a.Org)
		if entitlementLost(err) {
			return oidc.ErrAccessDenied().WithDescription("the account may no longer use this service")
		}
		if err != nil {
			return s.serverError(ctx, "organization claims", err)
		}
		for k, v := range c.Map() {
			info.AppendClaims(k, v)
		}
	}
	return s.setLegacyClaim(ctx, u.ID, a.Client, a.Scopes, info.AppendClaims)
}

// errInactive tells op the token is inactive: op marks a token active
// whenever this method returns nil, and writes the response untouched
// (active:false) when it returns an error.
var errInactive = errors.New("token inactive")

// SetIntrospectionFromToken answers RFC 7662 introspection; an expired or
// revoked token, or one of a disabled user, is inactive. Nothing is set on
// resp before the token is known to be active.
func (s *Storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	a, err := decodeAccessInfo(tokenID)
	if err != nil || a.Subject != subject {
		return errInactive
	}
	u, err := s.introspectionCheck(ctx, a)
	if err != nil {
		return err
	}
	var r oidc.IntrospectionResponse // resp stays empty if filling fails midway
	if err := s.fillIntrospection(ctx, a, u, &r); err != nil {
		return err
	}
	*resp = r
	return nil
}

// introspectionCheck is what introspection checks at every request,
// cached token or not (TokenInfo): expiry, revocation and, for a person's
// token, the account. It returns the user the answer is made of (none
// for a client's own token).
func (s *Storage) introspectionCheck(ctx context.Context, a accessInfo) (store.User, error) {
	ok, err := s.accessActive(ctx, a)
	if err != nil {
		_ = s.serverError(ctx, "introspection: check revocation", err) // logs, flags an outage
		return store.User{}, errInactive                               // fail closed
	}
	if !ok {
		return store.User{}, errInactive
	}
	if a.Subject == a.Client {
		return store.User{}, nil
	}
	u, err := s.user(ctx, a.Subject)
	if err != nil || u.Disabled {
		return store.User{}, errInactive
	}
	return u, nil
}

// fillIntrospection sets the answer for an active token: the token's
// facts, the user's claims, and for scope roles the organization and
// legacy claims, read fresh.
func (s *Storage) fillIntrospection(ctx context.Context, a accessInfo, u store.User, resp *oidc.IntrospectionResponse) error {
	var info oidc.UserInfo
	claims := map[string]any{}
	if a.Subject != a.Client {
		setUserClaims(&info, u, a.Scopes)
		if wantsRoles(a.Scopes) {
			c, err := s.orgClaims(ctx, a.Subject, a.Client, a.Org)
			if err != nil {
				if !entitlementLost(err) {
					_ = s.serverError(ctx, "introspection: organization claims", err) // logs, flags an outage
				}
				return errInactive // the entitlement is gone, or unknown: fail closed
			}
			addClaims(claims, &c)
		}
	}
	resp.SetUserInfo(&info)
	resp.Subject = a.Subject
	resp.ClientID = a.Client
	resp.Scope = a.Scopes
	resp.Audience = []string{a.Client}
	resp.Expiration = oidc.FromTime(time.Unix(a.Expires, 0))
	resp.IssuedAt = oidc.FromTime(time.Unix(a.Issued, 0))
	resp.TokenType = oidc.BearerToken
	if a.Session != "" {
		claims["sid"] = a.Session
	}
	if len(claims) > 0 {
		resp.Claims = claims
	}
	if err := s.setLegacyClaim(ctx, a.Subject, a.Client, a.Scopes, func(k string, v any) {
		if resp.Claims == nil {
			resp.Claims = map[string]any{}
		}
		resp.Claims[k] = v
	}); err != nil {
		return errInactive // fail closed
	}
	return nil
}

// GetPrivateClaimsFromScopes is used only when GetPrivateClaimsFromRequest
// is not; kept for the interface.
func (s *Storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds `scope` and `sid` to JWT access tokens
// (op adds neither), and the organization claims for scope roles.
func (s *Storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	claims := map[string]any{"scope": strings.Join(req.GetScopes(), " ")}
	if sid := sessionOf(req); sid != "" {
		claims["sid"] = sid
	}
	if wantsRoles(req.GetScopes()) {
		c, err := s.requestClaims(ctx, req)
		if err != nil {
			return nil, err
		}
		addClaims(claims, c)
	}
	if aud := req.GetAudience(); len(aud) > 0 {
		if err := s.setLegacyClaim(ctx, req.GetSubject(), aud[0], req.GetScopes(), func(k string, v any) { claims[k] = v }); err != nil {
			return nil, err
		}
	}
	return claims, nil
}
