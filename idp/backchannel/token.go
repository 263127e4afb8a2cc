package backchannel

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TokenType is the logout token's `typ` header.
const TokenType = "logout+jwt"

// TokenLifetime is how long a logout token is valid after its iat.
const TokenLifetime = 2 * time.Minute

// SigningKey is a private key ready to sign; *keys.SigningKey satisfies it.
type SigningKey interface {
	ID() string
	SignatureAlgorithm() jose.SignatureAlgorithm
	Key() any
}

// KeySource returns the key tokens are signed with now.
type KeySource interface {
	Signing() (SigningKey, error)
}

// KeySourceFunc adapts a function to KeySource.
type KeySourceFunc func() (SigningKey, error)

// Signing calls f.
func (f KeySourceFunc) Signing() (SigningKey, error) { return f() }

// Keys adapts a method such as (*keys.Manager).Signing, whose result is a
// concrete key type, to KeySource: backchannel.Keys(manager.Signing).
func Keys[K SigningKey](signing func() (K, error)) KeySource {
	return KeySourceFunc(func() (SigningKey, error) {
		k, err := signing()
		if err != nil {
			return nil, err
		}
		return k, nil
	})
}

// signToken returns a compact JWS logout token for p, issued at now by
// issuer, with a 128-bit random jti read from rnd.
func signToken(key SigningKey, issuer string, p Payload, now time.Time, rnd io.Reader) (string, error) {
	raw := make([]byte, 16)
	if _, err := io.ReadFull(rnd, raw); err != nil {
		return "", fmt.Errorf("jti: %w", err)
	}
	claims := &oidc.LogoutTokenClaims{
		Issuer:     issuer,
		Subject:    p.Sub,
		Audience:   oidc.Audience{p.ClientID},
		IssuedAt:   oidc.FromTime(now),
		Expiration: oidc.FromTime(now.Add(TokenLifetime)),
		JWTID:      base64.RawURLEncoding.EncodeToString(raw),
		Events:     map[string]any{Event: struct{}{}},
		SessionID:  p.SID,
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: key.Key()},
		(&jose.SignerOptions{}).WithType(TokenType).WithHeader(jose.HeaderKey("kid"), key.ID()))
	if err != nil {
		return "", fmt.Errorf("signer for key %s: %w", key.ID(), err)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", key.ID(), err)
	}
	return jws.CompactSerialize()
}
