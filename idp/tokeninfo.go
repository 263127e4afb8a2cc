package idp

import (
	"context"
	"errors"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/idp/tokencache"
)

// newTokenInfo builds the userinfo and introspection answers
// (idp/oauthstrict answers with them instead of op): verified tokens are
// cached per replica until they expire or the signing keys change
// (idp/tokencache, bounded by its defaults), and every request still
// checks expiry, revocation and the account.
func (s *Server) newTokenInfo() (*oidcstore.TokenInfo, error) {
	return s.storage.NewTokenInfo(s.verifyAccessToken, tokencache.Config{
		Now: s.deps.Now, Version: s.Keys.Version, Registerer: s.deps.Registry,
	})
}

var errNotAccessToken = errors.New("not an access token")

// verifyAccessToken checks a bearer access token as op's userinfo and
// introspection do: a value op's crypto opens is an opaque token,
// "ID:subject"; anything else must be a JWT op's access token verifier
// accepts (the issuer, a signature by a published key, not expired).
func (s *Server) verifyAccessToken(ctx context.Context, token string) (string, string, error) {
	if plain, err := s.Provider.Crypto().Decrypt(token); err == nil {
		id, subject, ok := strings.Cut(plain, ":")
		if !ok || strings.Contains(subject, ":") {
			return "", "", errNotAccessToken
		}
		return id, subject, nil
	}
	ctx = op.ContextWithIssuer(ctx, s.deps.Config.Issuer)
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, token, s.Provider.AccessTokenVerifier(ctx))
	if err != nil {
		return "", "", err
	}
	return claims.JWTID, claims.Subject, nil
}
