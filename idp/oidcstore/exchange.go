package oidcstore

import (
	"context"
	"net/http"
	"net/url"
	"sync"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/customerhub/hubid/store"
)

// Per-client token options (store.Client.OmitRefreshIDToken and
// AccessTokenSigningAlgorithm). op signs every token of a request with the
// one key Storage.SigningKey returns and always mints an ID token on
// refresh, so for a client with a non-default option the token endpoint
// runs op's own steps (parse, validate, CreateAccessToken, CreateIDToken)
// here, with the access token's algorithm in its context and the ID token
// left out where the client asked. A client with the defaults goes to op
// untouched: its answers are byte for byte what they were.

// Exchanger is op's token endpoint side (*op.Provider).
type Exchanger interface {
	op.Exchanger
	IssuerFromRequest(r *http.Request) string
}

// AlgRS256 is the default (and ID token) signing algorithm; AlgES256 the
// one a client may choose for its access tokens.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// AccessAlgorithm is the algorithm c's JWT access tokens are signed with.
func AccessAlgorithm(c store.Client) string {
	if c.AccessTokenSigningAlgorithm == "" {
		return AlgRS256
	}
	return c.AccessTokenSigningAlgorithm
}

type accessAlgKey struct{}

// withAccessAlg marks ctx as signing an access token with alg: SigningKey
// then returns that algorithm's active key.
func withAccessAlg(ctx context.Context, alg string) context.Context {
	if alg == AlgRS256 || alg == "" {
		return ctx
	}
	return context.WithValue(ctx, accessAlgKey{}, alg)
}

func accessAlgOf(ctx context.Context) string {
	a, _ := ctx.Value(accessAlgKey{}).(string)
	return a
}

// TokenOptions wraps op's token endpoint (next) for clients with
// non-default token options. It runs after the client was authenticated
// and the form parsed (idp/oauthstrict).
func (s *Storage) TokenOptions(p Exchanger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grant := oidc.GrantType(r.PostForm.Get("grant_type"))
		var c store.Client
		switch grant {
		case oidc.GrantTypeRefreshToken, oidc.GrantTypeCode, oidc.GrantTypeClientCredentials:
			var err error
			if c, err = s.client(r.Context(), requestClientID(r)); err != nil {
				next.ServeHTTP(w, r) // op answers the unknown client or the outage as before
				return
			}
		default:
			next.ServeHTTP(w, r)
			return
		}
		alg := AccessAlgorithm(c)
		idToken := !(grant == oidc.GrantTypeRefreshToken && c.OmitRefreshIDToken)
		if alg == AlgRS256 && idToken {
			next.ServeHTTP(w, r)
			return
		}
		ctx := op.ContextWithIssuer(r.Context(), p.IssuerFromRequest(r))
		r = r.WithContext(ctx)
		var resp *oidc.AccessTokenResponse
		var err error
		switch grant {
		case oidc.GrantTypeClientCredentials:
			// Only an access token is signed: op's own exchange, with the
			// algorithm in the context.
			next.ServeHTTP(w, r.WithContext(withAccessAlg(ctx, alg)))
			return
		case oidc.GrantTypeCode:
			resp, err = s.codeExchange(r, p, alg)
		default:
			resp, err = s.refreshExchange(r, p, alg, idToken)
		}
		if err != nil {
			op.RequestError(w, r, err, nil)
			return
		}
		httphelper.MarshalJSON(w, resp)
	})
}

// requestClientID is the client ID of a token request: HTTP Basic (RFC
// 6749 §2.3.1 form-encodes it) or the client_id parameter.
func requestClientID(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
		return id
	}
	return r.PostForm.Get("client_id")
}

// codeExchange is op.CodeExchange with the access token signed with alg.
func (s *Storage) codeExchange(r *http.Request, p Exchanger, alg string) (*oidc.AccessTokenResponse, error) {
	req, err := op.ParseAccessTokenRequest(r, p.Decoder())
	if err != nil {
		return nil, err
	}
	if req.Code == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code missing")
	}
	ar, client, err := op.ValidateAccessTokenRequest(r.Context(), req, p)
	if err != nil {
		return nil, err
	}
	return s.tokenResponse(r.Context(), p, ar, client, alg, true, req.Code, "")
}

// refreshExchange is op.RefreshTokenExchange with the access token signed
// with alg and, when idToken is false, no ID token (OpenID Connect Core
// §12.2: the response may omit it).
func (s *Storage) refreshExchange(r *http.Request, p Exchanger, alg string, idToken bool) (*oidc.AccessTokenResponse, error) {
	req, err := op.ParseRefreshTokenRequest(r, p.Decoder())
	if err != nil {
		return nil, err
	}
	validated, client, err := op.ValidateRefreshTokenRequest(r.Context(), req, p)
	if err != nil {
		return nil, err
	}
	return s.tokenResponse(r.Context(), p, validated, client, alg, idToken, "", req.RefreshToken)
}

// tokenResponse is op.CreateTokenResponse for the code and refresh grants,
// the access token signed with alg and the ID token only when idToken.
func (s *Storage) tokenResponse(ctx context.Context, p Exchanger, req op.IDTokenRequest, client op.Client,
	alg string, idToken bool, code, refresh string) (*oidc.AccessTokenResponse, error) {
	at, rt, validity, err := op.CreateAccessToken(withAccessAlg(ctx, alg), req, client.AccessTokenType(), p, client, refresh)
	if err != nil {
		return nil, err
	}
	var idt string
	if idToken {
		if idt, err = op.CreateIDToken(ctx, op.IssuerFromContext(ctx), req, client.IDTokenLifetime(), at, code, p.Storage(), client); err != nil {
			return nil, err
		}
	}
	if ar, ok := req.(op.AuthRequest); ok {
		if err := p.Storage().DeleteAuthRequest(ctx, ar.GetID()); err != nil {
			return nil, err
		}
	}
	return &oidc.AccessTokenResponse{AccessToken: at, IDToken: idt, RefreshToken: rt, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(max(validity.Seconds(), 0)), Scope: req.GetScopes()}, nil
}

// signingKeyFor returns the active key of alg. While alg has no key yet
// (a client was just given it), the token is signed with the default
// key, which verifies everywhere too, and the key is created once in the
// background (keys.Manager.EnsureAlgorithm) for the tokens that follow.
func (s *Storage) signingKeyFor(ctx context.Context, alg string) (op.SigningKey, error) {
	if k, err := s.keys.SigningFor(alg); err == nil {
		return k, nil
	}
	s.ensureOnce(alg, func() {
		ctx := context.WithoutCancel(ctx)
		if err := s.keys.EnsureAlgorithm(ctx, alg); err != nil {
			s.cfg.Logger.ErrorContext(ctx, "create the signing key a client's access tokens need", "alg", alg, "err", err)
		}
	})
	k, err := s.keys.Signing()
	if err != nil {
		return nil, err
	}
	return k, nil
}

// ensuring runs one key creation per algorithm at a time.
type ensuring struct {
	mu      sync.Mutex
	running map[string]bool
}

func (s *Storage) ensureOnce(alg string, fn func()) {
	s.ensuring.mu.Lock()
	defer s.ensuring.mu.Unlock()
	if s.ensuring.running[alg] {
		return
	}
	if s.ensuring.running == nil {
		s.ensuring.running = map[string]bool{}
	}
	s.ensuring.running[alg] = true
	go func() {
		fn()
		s.ensuring.mu.Lock()
		delete(s.ensuring.running, alg)
		s.ensuring.mu.Unlock()
	}()
}
