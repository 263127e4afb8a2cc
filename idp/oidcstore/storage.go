// Package oidcstore adapts hubid's stores to zitadel/oidc's op.Storage, so
// the store packages never import the OIDC library. It also closes the gaps
// the library leaves (see docs/decisions.md): S256-only PKCE, single-use
// codes whose replay revokes what they issued, refresh token rotation with
// reuse detection, expiry and revocation checks on userinfo and
// introspection.
package oidcstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Durable is the durable storage the adapter reads.
type Durable interface {
	GetClient(ctx context.Context, id string) (store.Client, error)
	GetUser(ctx context.Context, id string) (store.User, error)
	orgs.ClaimStore
	Ping(ctx context.Context) error
}

// Ephemeral is the ephemeral storage the adapter uses.
type Ephemeral interface {
	store.AuthRequestStore
	store.CodeStore
	store.RefreshStore
	store.RevocationStore
	Ping(ctx context.Context) error
}

// ClaimReader is what the claims read: the organization claims' reads
// and the legacy links.
type ClaimReader interface {
	orgs.ClaimStore
	LegacyLinks
}

// Keys gives the signing and published keys (keys.Manager).
type Keys interface {
	Signing() (*keys.SigningKey, error)
	SigningFor(alg string) (*keys.SigningKey, error)
	EnsureAlgorithm(ctx context.Context, alg string) error
	Public() []*keys.PublicKey
}

// SecretVerifier checks a client secret against its stored hash.
type SecretVerifier func(secret, hash string) bool

// Config configures the adapter.
type Config struct {
	LoginURL                func(authRequestID string) string
	AuthRequestTTL          time.Duration
	CodeTTL                 time.Duration
	AccessTTL               time.Duration
	IDTokenTTL              time.Duration
	RefreshIdle             time.Duration
	RefreshAbsolute         time.Duration
	RefreshReuseGrace       time.Duration
	ClockSkew               time.Duration
	RequirePKCEConfidential bool
	// ClientCacheTTL keeps clients in memory this long (0 = no cache).
	ClientCacheTTL time.Duration
	// Users reads a user for the token endpoints (a cache, see
	// idp/usercache); nil reads the durable store.
	Users func(ctx context.Context, id string) (store.User, error)
	// Claims answers the directory reads of the claims (organizations,
	// legacy links) for the token endpoints (a cache, see
	// idp/claimcache); nil reads the durable store.
	Claims       ClaimReader
	VerifySecret SecretVerifier
	// RestrictedScopes maps a scope to the only clients that may obtain it
	// with client_credentials (e.g. hubid:admin → admin.clients); any
	// other client asking for it gets invalid_scope.
	RestrictedScopes map[string][]string
	// Audit records a security event (nil: none).
	Audit func(ctx context.Context, e store.AuditEvent)
	// EndSession ends a browser session and notifies its clients.
	EndSession func(ctx context.Context, sessionID string) error
	// SignOut ends a browser session at the request of a service
	// (RP-initiated logout with an id_token_hint) and records it in the
	// person's history; nil: EndSession.
	SignOut func(ctx context.Context, sessionID, clientID string) error
	// LogoutConfirmURL is the confirmation page for end_session requests
	// without a valid id_token_hint.
	LogoutConfirmURL func(redirect string) string
	Now              func() time.Time
	Rand             io.Reader
	Logger           *slog.Logger
}

// Storage implements op.Storage.
type Storage struct {
	cfg     Config
	clients *clientCache
	db      Durable
	// claims and links answer the claims' directory reads: cfg.Claims,
	// else db (links nil when db has no legacy links: no legacy_ids).
	claims orgs.ClaimStore
	links  LegacyLinks
	eph    Ephemeral
	keys   Keys
	// ensuring: the algorithms whose first key is being created.
	ensuring ensuring
}

var (
	_ op.Storage                        = (*Storage)(nil)
	_ op.ClientCredentialsStorage       = (*Storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*Storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*Storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*Storage)(nil)
)

// New returns the adapter.
func New(cfg Config, db Durable, eph Ephemeral, k Keys) *Storage {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Storage{cfg: cfg, db: db, eph: eph, keys: k, claims: db,
		clients: &clientCache{ttl: cfg.ClientCacheTTL, now: cfg.Now, m: map[string]cachedClient{}}}
	s.links, _ = db.(LegacyLinks)
	if cfg.Claims != nil {
		s.claims, s.links = cfg.Claims, cfg.Claims
	}
	return s
}

// HashToken is how codes and refresh tokens are stored: SHA-256, hex.
// They are ≥128-bit random values, so a fast hash is right.
func HashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

func (s *Storage) random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// TemporarilyUnavailable is the OAuth error for a backend outage (RFC 6749
// §4.1.2.1); idp answers it with 503 on the API endpoints.
const TemporarilyUnavailable = "temporarily_unavailable"

// serverError hides internal detail from the client and logs it. A backend
// outage becomes temporarily_unavailable (the client should retry), any
// other failure server_error.
func (s *Storage) serverError(ctx context.Context, msg string, err error) *oidc.Error {
	noteFailure(ctx, err)
	if errors.Is(err, store.ErrUnavailable) {
		s.cfg.Logger.WarnContext(ctx, msg, slog.Any("err", err))
		return (&oidc.Error{ErrorType: TemporarilyUnavailable, Description: "the service is temporarily unavailable; try again shortly"}).WithParent(err)
	}
	s.cfg.Logger.ErrorContext(ctx, msg, slog.Any("err", err))
	return oidc.ErrServerError().WithParent(err)
}

// Health reports whether both stores answer.
func (s *Storage) Health(ctx context.Context) error {
	if err := s.db.Ping(ctx); err != nil {
		return err
	}
	return s.eph.Ping(ctx)
}

// GetClientByClientID loads a client.
func (s *Storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	noteCaller(ctx, id)
	c, err := s.client(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return nil, s.serverError(ctx, "load client", err)
	}
	return s.wrapClient(c), nil
}

func (s *Storage) wrapClient(c store.Client) *Client {
	return &Client{c: c, loginURL: s.cfg.LoginURL, idTTL: s.cfg.IDTokenTTL, skew: 0}
}

// AuthorizeClientIDSecret authenticates a confidential client.
func (s *Storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.authenticate(ctx, id, secret)
	return err
}

// AuthenticateClient authenticates a client before anything else of its
// request is looked at (idp/oauthstrict): a confidential client by its
// secret, a public client by its ID alone (it must send no secret).
// Success is remembered for the request (its memo), so op's own check of
// the same credentials costs no second hash.
func (s *Storage) AuthenticateClient(ctx context.Context, id, secret string) (public bool, err error) {
	noteCaller(ctx, id)
	c, err := s.authenticate(ctx, id, secret)
	switch {
	case c.Public && secret == "":
		return true, nil // found, and refused by authenticate only for being public
	case err != nil:
		return c.Public, err
	}
	rememberAuth(ctx, id, secret)
	return false, nil
}

func (s *Storage) authenticate(ctx context.Context, id, secret string) (store.Client, error) {
	if authenticatedBefore(ctx, id, secret) {
		return s.client(ctx, id)
	}
	c, err := s.client(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.cfg.VerifySecret(secret, "") // same work for unknown clients
		return c, oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	if err != nil {
		return c, s.serverError(ctx, "load client", err)
	}
	if c.Public || c.SecretHash == "" || !s.cfg.VerifySecret(secret, c.SecretHash) {
		return c, oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return c, nil
}

// CreateAuthRequest validates what op leaves to us and stores the request.
func (s *Storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient()
	}
	switch req.CodeChallengeMethod {
	case oidc.CodeChallengeMethodS256:
	case "":
		if req.CodeChallenge != "" {
			return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
		}
		if c.Public || s.cfg.RequirePKCEConfidential {
			return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
		}
	default:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256 (plain is not supported)")
	}
	if req.CodeChallengeMethod == oidc.CodeChallengeMethodS256 && len(req.CodeChallenge) != 43 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge must be a base64url SHA-256 (43 characters)")
	}
	hint, err := checkOrgHint(ctx)
	if err != nil {
		return nil, err
	}
	id, err := s.random(16)
	if err != nil {
		return nil, s.serverError(ctx, "auth request id", err)
	}
	now := s.cfg.Now()
	r := store.AuthRequest{
		ID:                  id,
		ClientID:            req.ClientID,
		RedirectURI:         req.RedirectURI,
		Scopes:              req.Scopes,
		State:               req.State,
		Nonce:               req.Nonce,
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              req.Prompt,
		MaxAge:              req.MaxAge,
		LoginHint:           req.LoginHint,
		OrgHint:             hint,
		UILocales:           tagsToStrings(req.UILocales),
		ACRValues:           req.ACRValues,
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.cfg.AuthRequestTTL),
	}
	if userID != "" {
		// op passes the id_token_hint's subject: the sign-in UI checks the
		// session belongs to it.
		r.UserID = userID
	}
	if err := s.eph.CreateAuthRequest(ctx, r); err != nil {
		return nil, s.serverError(ctx, "store auth request", err)
	}
	return &AuthRequest{r: r}, nil
}

// AuthRequestByID loads a pending request.
func (s *Storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.eph.GetAuthRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("the sign-in request expired; start again from the service")
	}
	if err != nil {
		return nil, s.serverError(ctx, "load auth request", err)
	}
	return &AuthRequest{r: r}, nil
}

// SaveAuthCode records an issued code (only its hash) for 60 s.
func (s *Storage) SaveAuthCode(ctx context.Context, id, code string) error {
	r, err := s.eph.GetAuthRequest(ctx, id)
	if err != nil {
		return s.serverError(ctx, "load auth request", err)
	}
	grant, err := s.random(16)
	if err != nil {
		return s.serverError(ctx, "grant id", err)
	}
	now := s.cfg.Now()
	err = s.eph.CreateAuthCode(ctx, store.AuthCode{
		ID: HashToken(code), AuthRequestID: id, ClientID: r.ClientID, GrantID: grant,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
	})
	if err != nil {
		return s.serverError(ctx, "store code", err)
	}
	return nil
}

// AuthRequestByCode redeems a code exactly once. A replay revokes every
// token issued from the code (the grant) and fails with invalid_grant.
func (s *Storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	c, err := s.eph.ConsumeAuthCode(ctx, HashToken(code))
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		s.revokeGrant(ctx, c.GrantID)
		s.cfg.Logger.WarnContext(ctx, "authorization code replayed; grant revoked", slog.String("client_id", c.ClientID), slog.String("grant", c.GrantID))
		return nil, oidc.ErrInvalidGrant().WithDescription("the code has already been used")
	case errors.Is(err, store.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is invalid or expired")
	case err != nil:
		return nil, s.serverError(ctx, "consume code", err)
	}
	r, err := s.eph.GetAuthRequest(ctx, c.AuthRequestID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is invalid or expired")
	}
	if err != nil {
		return nil, s.serverError(ctx, "load auth request", err)
	}
	if !r.Done {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is invalid")
	}
	return &AuthRequest{r: r, grantID: c.GrantID}, nil
}

// revokeGrant revokes the access tokens and refresh family of a grant.
func (s *Storage) revokeGrant(ctx context.Context, grant string) {
	if grant == "" {
		return
	}
	until := s.cfg.Now().Add(max(s.cfg.RefreshAbsolute, s.cfg.AccessTTL))
	if err := s.eph.RevokeFamily(ctx, grant, until); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "revoke refresh family", slog.Any("err", err))
	}
	if err := s.eph.RevokeToken(ctx, grantKey(grant), s.cfg.Now().Add(s.cfg.AccessTTL+s.cfg.ClockSkew)); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "revoke grant access tokens", slog.Any("err", err))
	}
}

// DeleteAuthRequest removes a finished request.
func (s *Storage) DeleteAuthRequest(ctx context.Context, id string) error {
	if err := s.eph.DeleteAuthRequest(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return s.serverError(ctx, "delete auth request", err)
	}
	return nil
}

// SigningKey returns the active key (cached in memory): the default
// algorithm's, or the access token algorithm's of a client that chose
// another (see TokenOptions).
func (s *Storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	if alg := accessAlgOf(ctx); alg != "" {
		return s.signingKeyFor(ctx, alg)
	}
	k, err := s.keys.Signing()
	if err != nil {
		return nil, err
	}
	return k, nil
}

// SignatureAlgorithms lists the algorithms of the published keys.
func (s *Storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	var out []jose.SignatureAlgorithm
	for _, k := range s.keys.Public() {
		if !slices.Contains(out, k.Algorithm()) {
			out = append(out, k.Algorithm())
		}
	}
	return out, nil
}

// KeySet returns the published keys (cached in memory).
func (s *Storage) KeySet(context.Context) ([]op.Key, error) {
	pub := s.keys.Public()
	out := make([]op.Key, len(pub))
	for i, k := range pub {
		out[i] = k
	}
	return out, nil
}

// GetKeyByIDAndClientID: the JWT profile grant is not offered.
func (s *Storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("jwt-bearer grant is not supported")
}

// ValidateJWTProfileScopes: the JWT profile grant is not offered.
func (s *Storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("jwt-bearer grant is not supported")
}
