package adminapi

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/keys"
)

// TokenVerifier verifies a bearer access token and returns what it says.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (AccessClaims, error)
}

// AccessClaims is what the API uses of a verified access token.
type AccessClaims struct {
	Subject  string
	ClientID string
	Scopes   []string
}

// PublicKeys gives the published signing keys (keys.Manager).
type PublicKeys interface {
	Public() []*keys.PublicKey
}

// JWTVerifier verifies hubid's own JWT access tokens locally, as any
// resource server would: the signature against a published key (by kid),
// the issuer, the expiry and not-before (with Skew), and then revocation
// through Active (the token's jti; oidcstore.Storage.AccessTokenActive).
// Opaque access tokens are not accepted.
type JWTVerifier struct {
	Issuer string
	Keys   PublicKeys
	Active func(ctx context.Context, tokenID string) (bool, error)
	Skew   time.Duration
	Now    func() time.Time
}

var tokenAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

type jwtClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Expiry    int64  `json:"exp"`
	NotBefore int64  `json:"nbf"`
	ID        string `json:"jti"`
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope"`
}

func invalidToken(msg string) error {
	return apperr.New(apperr.Unauthorized, "the access token is not valid: "+msg)
}

// Verify checks raw and returns its claims; any failure is Unauthorized
// (a store outage while checking revocation is Unavailable).
func (v *JWTVerifier) Verify(ctx context.Context, raw string) (AccessClaims, error) {
	jws, err := jose.ParseSigned(raw, tokenAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return AccessClaims{}, invalidToken("not a signed JWT")
	}
	h := jws.Signatures[0].Header
	var key *keys.PublicKey
	for _, k := range v.Keys.Public() {
		if k.ID() == h.KeyID && string(k.Algorithm()) == h.Algorithm {
			key = k
			break
		}
	}
	if key == nil {
		return AccessClaims{}, invalidToken("unknown signing key")
	}
	payload, err := jws.Verify(key.Key())
	if err != nil {
		return AccessClaims{}, invalidToken("bad signature")
	}
	var c jwtClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return AccessClaims{}, invalidToken("unreadable claims")
	}
	now := v.Now()
	switch {
	case c.Issuer != v.Issuer:
		return AccessClaims{}, invalidToken("wrong issuer")
	case c.Expiry == 0 || !now.Before(time.Unix(c.Expiry, 0).Add(v.Skew)):
		return AccessClaims{}, invalidToken("expired")
	case c.NotBefore != 0 && now.Add(v.Skew).Before(time.Unix(c.NotBefore, 0)):
		return AccessClaims{}, invalidToken("not valid yet")
	case c.ID == "":
		return AccessClaims{}, invalidToken("no token ID")
	}
	ok, err := v.Active(ctx, c.ID)
	if err != nil {
		return AccessClaims{}, apperr.Wrap(apperr.Unavailable, "the token could not be checked; try again shortly", err)
	}
	if !ok {
		return AccessClaims{}, invalidToken("revoked or expired")
	}
	return AccessClaims{Subject: c.Subject, ClientID: c.ClientID, Scopes: strings.Fields(c.Scope)}, nil
}
