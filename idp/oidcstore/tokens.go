package oidcstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// accessInfo is what an access token's ID (the JWT `jti`, or the payload
// of an opaque token, which op encrypts) carries. The ID is only ever seen
// inside a signed JWT or an AES-GCM sealed opaque token, so it is
// authentic, and userinfo/introspection need no lookup (see
// docs/decisions.md, "stateless access tokens").
type accessInfo struct {
	Grant   string   `json:"g"`
	Client  string   `json:"c"`
	Subject string   `json:"u"`
	Scopes  []string `json:"s,omitempty"`
	Session string   `json:"sid,omitempty"`
	Org     string   `json:"o,omitempty"` // the organization selected at sign-in
	Issued  int64    `json:"i"`
	Expires int64    `json:"e"`
	Nonce   string   `json:"n"`
}

func (a accessInfo) encode() (string, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("encode token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeAccessInfo(id string) (accessInfo, error) {
	var a accessInfo
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return a, fmt.Errorf("token id: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("token id: %w", err)
	}
	if a.Nonce == "" || a.Client == "" {
		return a, errors.New("token id: incomplete")
	}
	return a, nil
}

func grantKey(g string) string  { return "grant:" + g }
func accessKey(n string) string { return "at:" + n }

// accessActive reports whether the access token is unexpired and neither
// it nor its grant was revoked.
func (s *Storage) accessActive(ctx context.Context, a accessInfo) (bool, error) {
	if !s.cfg.Now().Before(time.Unix(a.Expires, 0)) {
		return false, nil
	}
	revoked, err := s.eph.IsTokenRevoked(ctx, accessKey(a.Nonce), grantKey(a.Grant))
	return !revoked && err == nil, err
}

// sessionOf returns the browser session a token request belongs to.
func sessionOf(req op.TokenRequest) string {
	switch r := req.(type) {
	case *AuthRequest:
		return r.r.SessionID
	case *RefreshRequest:
		return r.t.SessionID
	}
	return ""
}

// grantOf returns the grant and session a token request belongs to.
func (s *Storage) grantOf(req op.TokenRequest) (grant, session string, err error) {
	switch r := req.(type) {
	case *AuthRequest:
		return r.grantID, r.r.SessionID, nil
	case *RefreshRequest:
		return r.t.FamilyID, r.t.SessionID, nil
	}
	g, err := s.random(16)
	return g, "", err
}

// newAccessID mints an access token ID and returns with it the token's
// revocation key (accessKey of its random nonce).
func (s *Storage) newAccessID(req op.TokenRequest, clientID string) (id, key string, exp time.Time, err error) {
	grant, sid, err := s.grantOf(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	n, err := s.random(12)
	if err != nil {
		return "", "", time.Time{}, err
	}
	now := s.cfg.Now()
	exp = now.Add(s.cfg.AccessTTL)
	id, err = accessInfo{Grant: grant, Client: clientID, Subject: req.GetSubject(), Scopes: req.GetScopes(),
		Session: sid, Org: selectedOrg(req), Issued: now.Unix(), Expires: exp.Unix(), Nonce: n}.encode()
	return id, accessKey(n), exp, err
}

func clientOf(req op.TokenRequest) string {
	switch r := req.(type) {
	case interface{ GetClientID() string }:
		return r.GetClientID()
	}
	if aud := req.GetAudience(); len(aud) > 0 {
		return aud[0]
	}
	return ""
}

// CreateAccessToken mints an access token ID (no storage write).
func (s *Storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	if _, err := s.requestClaims(ctx, req); err != nil {
		return "", time.Time{}, err
	}
	id, _, exp, err := s.newAccessID(req, clientOf(req))
	if err != nil {
		return "", time.Time{}, s.serverError(ctx, "access token id", err)
	}
	return id, exp, nil
}

// CreateAccessAndRefreshTokens mints an access token ID and a new refresh
// token: a new family after a code exchange, the family's next token on
// refresh (rotation; reuse of a rotated token revokes the family).
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	// The entitlement is checked before anything is written.
	if _, err := s.requestClaims(ctx, req); err != nil {
		return "", "", time.Time{}, err
	}
	secret, err := s.random(32)
	if err != nil {
		return "", "", time.Time{}, s.serverError(ctx, "refresh token", err)
	}
	accessID, accessRevocation, exp, err := s.newAccessID(req, clientOf(req))
	if err != nil {
		return "", "", time.Time{}, s.serverError(ctx, "access token id", err)
	}
	now := s.cfg.Now()
	// The refresh token names the access token issued with it, so that a
	// retry within the reuse grace that replaces it revokes that access
	// token in the same rotation (store.RefreshStore.RotateRefreshToken).
	next := store.RefreshToken{CreatedAt: now, AccessID: accessRevocation, AccessExpiresAt: exp.Add(s.cfg.ClockSkew)}
	var rotated *RefreshRequest
	switch r := req.(type) {
	case *AuthRequest:
		next.FamilyID, next.UserID, next.ClientID, next.SessionID = r.grantID, r.r.UserID, r.r.ClientID, r.r.SessionID
		next.Scopes, next.Audience, next.AMR, next.AuthTime = r.r.Scopes, r.GetAudience(), r.r.AMR, r.r.AuthTime
		next.OrgID = r.r.OrgID
		next.Offline = slices.Contains(r.r.Scopes, oidc.ScopeOfflineAccess)
		next.FamilyCreatedAt = now
		next.ExpiresAt = s.refreshExpiry(now, now)
	case *RefreshRequest:
		t := r.t
		next.FamilyID, next.UserID, next.ClientID, next.SessionID = t.FamilyID, t.UserID, t.ClientID, t.SessionID
		next.Scopes, next.Audience, next.AMR, next.AuthTime = r.scopes, t.Audience, t.AMR, t.AuthTime
		next.OrgID, next.Offline, next.FamilyCreatedAt = t.OrgID, t.Offline, t.FamilyCreatedAt
		next.ExpiresAt = s.refreshExpiry(now, t.FamilyCreatedAt)
		rotated = r
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	tok, err := refreshValue(next, secret)
	if err != nil {
		return "", "", time.Time{}, s.serverError(ctx, "refresh token", err)
	}
	next.ID = HashToken(tok)
	if rotated == nil {
		if err := s.eph.CreateRefreshToken(ctx, next); err != nil {
			return "", "", time.Time{}, s.serverError(ctx, "store refresh token", err)
		}
		s.audit(ctx, store.AuditEvent{Time: now, Kind: AuditRefreshStarted, ActorID: next.UserID, UserID: next.UserID,
			ClientID: next.ClientID, Detail: map[string]string{"family": next.FamilyID, "offline": fmt.Sprint(next.Offline)}})
		return accessID, tok, exp, nil
	}
	// The only store call of a refresh whose token carried its facts
	// (TokenRequestByRefreshToken read nothing): the rotation finds the
	// presented token under the hash of its whole value, so it also
	// proves the facts genuine, and refuses a token rotated, revoked,
	// expired or never issued as the look-up did.
	before, err := s.eph.RotateRefreshToken(ctx, rotated.t.ID, next, s.cfg.RefreshReuseGrace)
	if err != nil {
		return "", "", time.Time{}, s.refreshError(ctx, rotated.t, err)
	}
	if !before.RotatedAt.IsZero() {
		s.graceRetry(ctx, rotated.t)
	}
	return accessID, tok, exp, nil
}

// graceRetry follows a rotated refresh token presented again within
// tokens.refresh_reuse_grace (its successor still unused), which replaced
// that successor; the rotation revoked the access token issued with the
// successor (before replacing it), so however many retries arrive, one
// refresh token and one access token stay valid. Every such retry is
// audited and logged.
func (s *Storage) graceRetry(ctx context.Context, t store.RefreshToken) {
	now := s.cfg.Now()
	s.cfg.Logger.WarnContext(ctx, "rotated refresh token used again within the reuse grace; its successor was replaced",
		slog.String("client_id", t.ClientID), slog.String("family", t.FamilyID))
	if s.cfg.Audit != nil {
		s.cfg.Audit(ctx, store.AuditEvent{Time: now, Kind: AuditRefreshGraceRetry, ClientID: t.ClientID,
			Detail: map[string]string{"family": t.FamilyID, "user_id": t.UserID}})
	}
}

// Audit kinds of refresh tokens. A family starts at a code exchange and
// ends when the service revokes it (RFC 7009) or a rotated token is used
// again; both are in the person's history. A retry within the reuse grace
// is a system event (no user).
const (
	AuditRefreshGraceRetry = "token.refresh.grace_retry"
	AuditRefreshStarted    = "token.refresh.started"
	AuditRefreshRevoked    = "token.refresh.revoked"
)

// audit records e when an audit hook is set.
func (s *Storage) audit(ctx context.Context, e store.AuditEvent) {
	if s.cfg.Audit != nil {
		s.cfg.Audit(ctx, e)
	}
}

// familyRevoked records the end of t's family (reason "revoked" by the
// service, or "reuse").
func (s *Storage) familyRevoked(ctx context.Context, t store.RefreshToken, reason string) {
	s.audit(ctx, store.AuditEvent{Time: s.cfg.Now(), Kind: AuditRefreshRevoked, ActorID: t.UserID, UserID: t.UserID,
		ClientID: t.ClientID, Detail: map[string]string{"family": t.FamilyID, "reason": reason}})
}

func (s *Storage) refreshExpiry(now, familyStart time.Time) time.Time {
	idle := now.Add(s.cfg.RefreshIdle)
	if abs := familyStart.Add(s.cfg.RefreshAbsolute); abs.Before(idle) {
		return abs
	}
	return idle
}

func (s *Storage) refreshError(ctx context.Context, t store.RefreshToken, err error) error {
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		s.revokeGrant(ctx, t.FamilyID)
		s.familyRevoked(ctx, t, "reuse")
		s.cfg.Logger.WarnContext(ctx, "refresh token reuse: family revoked", slog.String("client_id", t.ClientID), slog.String("family", t.FamilyID))
		return oidc.ErrInvalidGrant().WithDescription("refresh token reuse detected; sign in again")
	case errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrNotFound):
		return oidc.ErrInvalidGrant().WithDescription("the refresh token is invalid or expired")
	}
	return s.serverError(ctx, "rotate refresh token", err)
}

// RefreshRequest adapts a refresh token to op.RefreshTokenRequest.
type RefreshRequest struct {
	t      store.RefreshToken
	scopes []string
	claims *orgs.Claims // computed when the token is validated
}

// GetAMR returns the methods of the original sign-in.
func (r *RefreshRequest) GetAMR() []string { return r.t.AMR }

// GetAudience returns the audience.
func (r *RefreshRequest) GetAudience() []string { return r.t.Audience }

// GetAuthTime returns the original auth time.
func (r *RefreshRequest) GetAuthTime() time.Time { return r.t.AuthTime }

// GetClientID returns the client.
func (r *RefreshRequest) GetClientID() string { return r.t.ClientID }

// GetScopes returns the (possibly narrowed) scopes.
func (r *RefreshRequest) GetScopes() []string { return r.scopes }

// GetSubject returns the user.
func (r *RefreshRequest) GetSubject() string { return r.t.UserID }

// SetCurrentScopes narrows the scopes for this refresh.
func (r *RefreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// TokenRequestByRefreshToken validates a refresh token before rotation.
// A token that carries its facts (refreshFacts) is validated from them
// without a store round trip; the rotation that follows proves them. Any
// refusal of that fast path is decided again from the stored record, so
// every failure is answered as before, reuse detection included.
func (s *Storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	caller := callerOf(ctx)
	if r := s.refreshByFacts(ctx, token, caller); r != nil {
		return r, nil
	}
	t, err := s.refreshToken(ctx, token)
	if err != nil {
		return nil, s.refreshError(ctx, t, err)
	}
	// A rotated token is reuse once the grace for a lost answer is over,
	// and at once when another client presents it (op then refuses any
	// token of another client; this is the one case that also revokes).
	other := caller != "" && caller != t.ClientID
	if !t.RotatedAt.IsZero() && (other || s.cfg.Now().Sub(t.RotatedAt) > s.cfg.RefreshReuseGrace) {
		return nil, s.refreshError(ctx, t, store.ErrAlreadyUsed)
	}
	return s.validateRefresh(ctx, t)
}

// refreshByFacts is the request of a token validated from the facts it
// carries, without a store call; nil when it carries none, they do not
// decode, they name another client than caller (when known), the token
// has expired or validation refuses it.
func (s *Storage) refreshByFacts(ctx context.Context, token, caller string) *RefreshRequest {
	family, id, facts, ok := parseRefresh(token)
	if !ok || facts == "" {
		return nil
	}
	t, ok := decodeFacts(family, id, facts)
	if !ok || !s.cfg.Now().Before(t.ExpiresAt) || caller != "" && caller != t.ClientID {
		return nil
	}
	r, err := s.validateRefresh(ctx, t)
	if err != nil {
		return nil
	}
	return r
}

// validateRefresh checks that t may still be refreshed: its person exists,
// is enabled and has not changed their password since the family began,
// is still entitled to the client's service (and to the organization
// selected at sign-in), and needs no second step the sign-in lacked.
func (s *Storage) validateRefresh(ctx context.Context, t store.RefreshToken) (*RefreshRequest, error) {
	u, err := s.user(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || u.PasswordChangedAt.After(t.FamilyCreatedAt))) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token is no longer valid; sign in again")
	}
	if err != nil {
		return nil, s.serverError(ctx, "load user", err)
	}
	// A person removed from their last organization entitled to the
	// client's service (or from the organization selected at sign-in)
	// gets invalid_grant; a role change shows in the claims minted next.
	r := &RefreshRequest{t: t, scopes: t.Scopes}
	c, err := s.requestClaims(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := s.checkSecondStep(ctx, t, c); err != nil {
		return nil, err
	}
	return r, nil
}

// checkSecondStep refuses a refresh whose sign-in lacked the second step
// when an organization the tokens are for (one entitled to the client's
// service that the person belongs to) now requires two-step
// verification: no token for that organization's services is issued
// without it, so the person signs in again (and is taken through setup).
func (s *Storage) checkSecondStep(ctx context.Context, t store.RefreshToken, c *orgs.Claims) error {
	if c == nil || slices.Contains(t.AMR, "otp") {
		return nil
	}
	// The policy came with the claims (orgs.OrgClaim.RequireMFA), read
	// in the same query: no second read per organization.
	for _, oc := range c.Orgs {
		if oc.RequireMFA {
			return oidc.ErrInvalidGrant().WithDescription("two-step verification is now required; sign in again")
		}
	}
	return nil
}

// refreshToken looks up the refresh token a client presented; ErrNotFound
// when the value cannot be one.
func (s *Storage) refreshToken(ctx context.Context, value string) (store.RefreshToken, error) {
	family, id, _, ok := parseRefresh(value)
	if !ok {
		return store.RefreshToken{}, store.ErrNotFound
	}
	return s.eph.GetRefreshToken(ctx, family, id)
}

// refreshRef marks the token ID GetRefreshTokenInfo hands op for
// RevokeToken: the refresh token's value, which names its family (the
// stored ID, a hash, does not).
const refreshRef = "refresh:"

// GetRefreshTokenInfo identifies a refresh token for revocation.
func (s *Storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	t, err := s.refreshToken(ctx, token)
	if err != nil || t.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.UserID, refreshRef + token, nil
}

// RevokeToken revokes an access token (by ID) or a refresh token's family
// (RFC 7009). Unknown tokens are not an error.
func (s *Storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	if v, ok := strings.CutPrefix(tokenOrID, refreshRef); ok {
		tokenOrID, userID = v, ""
	}
	if userID != "" {
		a, err := decodeAccessInfo(tokenOrID)
		if err != nil {
			return nil
		}
		if a.Client != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
		}
		if err := s.eph.RevokeToken(ctx, accessKey(a.Nonce), time.Unix(a.Expires, 0).Add(s.cfg.ClockSkew)); err != nil {
			return s.serverError(ctx, "revoke access token", err)
		}
		return nil
	}
	t, err := s.refreshToken(ctx, tokenOrID)
	if errors.Is(err, store.ErrUnavailable) {
		// Not "unknown token": the client must try again, or the token
		// it meant to revoke stays valid.
		return s.serverError(ctx, "revoke refresh token", err)
	}
	if err != nil && !errors.Is(err, store.ErrRevoked) {
		return nil
	}
	if t.ClientID != "" && t.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
	}
	s.revokeGrant(ctx, t.FamilyID)
	if err == nil { // a family already revoked is not recorded twice
		s.familyRevoked(ctx, t, "revoked")
	}
	return nil
}

// TerminateSession is not called: TerminateSessionFromRequest replaces it.
func (s *Storage) TerminateSession(context.Context, string, string) error {
	return errors.New("TerminateSession is superseded by TerminateSessionFromRequest")
}

// TerminateSessionFromRequest ends the browser session named by the
// verified id_token_hint's sid. Without a hint nothing is ended here: the
// person is sent to a confirmation page (no silent logout by a link).
func (s *Storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.IDTokenHintClaims == nil || req.IDTokenHintClaims.SessionID == "" {
		return s.cfg.LogoutConfirmURL(req.RedirectURI), nil
	}
	end := s.cfg.EndSession
	if s.cfg.SignOut != nil {
		client := req.ClientID
		if client == "" {
			client = req.IDTokenHintClaims.GetAuthorizedParty()
		}
		if aud := req.IDTokenHintClaims.GetAudience(); client == "" && len(aud) > 0 {
			client = aud[0]
		}
		end = func(ctx context.Context, id string) error { return s.cfg.SignOut(ctx, id, client) }
	}
	if err := end(ctx, req.IDTokenHintClaims.SessionID); err != nil {
		return "", s.serverError(ctx, "end session", err)
	}
	return req.RedirectURI, nil
}

// ClientCredentials authenticates a service client for client_credentials.
func (s *Storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	c, err := s.authenticate(ctx, id, secret)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.GrantTypes, string(oidc.GrantTypeClientCredentials)) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("client_credentials is not allowed for this client")
	}
	return s.wrapClient(c), nil
}

// ccRequest is a client_credentials token request: the subject is the client.
type ccRequest struct {
	clientID string
	scopes   []string
}

func (r *ccRequest) GetSubject() string    { return r.clientID }
func (r *ccRequest) GetAudience() []string { return []string{r.clientID} }
func (r *ccRequest) GetScopes() []string   { return r.scopes }
func (r *ccRequest) GetClientID() string   { return r.clientID }

// ClientCredentialsTokenRequest drops user scopes: a service acts for
// itself. A restricted scope (Config.RestrictedScopes) asked for by a
// client not listed for it is refused with invalid_scope.
func (s *Storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	var keep []string
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, oidc.ScopeAddress, oidc.ScopePhone:
		default:
			if allowed, restricted := s.cfg.RestrictedScopes[sc]; restricted && !slices.Contains(allowed, id) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope %s is not allowed for this client", sc)
			}
			keep = append(keep, sc)
		}
	}
	return &ccRequest{clientID: id, scopes: keep}, nil
}

// AccessTokenActive reports whether the access token whose ID is tokenID
// (a verified JWT's jti) is unexpired and neither it nor its grant was
// revoked: the check a resource server inside hubid (the admin API) makes
// after verifying the signature. A malformed ID is inactive.
func (s *Storage) AccessTokenActive(ctx context.Context, tokenID string) (bool, error) {
	a, err := decodeAccessInfo(tokenID)
	if err != nil {
		return false, nil
	}
	return s.accessActive(ctx, a)
}
