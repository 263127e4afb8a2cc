package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/customerhub/hubid/store"
)

// supported are the algorithms hubid generates keys for.
var supported = []string{"RS256", "ES256", "EdDSA"}

// rsaSizes are the RSA key sizes hubid generates for RS256.
var rsaSizes = []int{2048, 3072, 4096}

// Sealer seals private keys at rest (seal.Keyring satisfies it).
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(blob, aad []byte) ([]byte, error)
}

// AAD binds a sealed key to its kid so blobs cannot be swapped between rows.
func AAD(kid string) []byte { return []byte("signing-key:" + kid) }

// newKID returns 96 random bits in hex: safe in URLs, headers and command
// lines (a base64url kid can start with "-", which a CLI reads as a flag).
func newKID(r io.Reader) (string, error) {
	b := make([]byte, 12)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("keys: kid: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func generate(alg string, rsaBits int, r io.Reader) (crypto.Signer, error) {
	switch alg {
	case "RS256":
		if !slices.Contains(rsaSizes, rsaBits) {
			return nil, fmt.Errorf("keys: RSA key size %d is not one of %v", rsaBits, rsaSizes)
		}
		return rsa.GenerateKey(r, rsaBits)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), r)
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(r)
		return priv, err
	}
	return nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
}

// NewGenerator returns a Generator that creates keys sealed with s: RSA of
// rsaBits for RS256, P-256 for ES256, Ed25519 for EdDSA.
func NewGenerator(s Sealer, rsaBits int, r io.Reader) Generator {
	return func(alg string, now time.Time) (store.SigningKey, error) {
		kid, err := newKID(r)
		if err != nil {
			return store.SigningKey{}, err
		}
		priv, err := generate(alg, rsaBits, r)
		if err != nil {
			return store.SigningKey{}, fmt.Errorf("keys: generate %s: %w", alg, err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return store.SigningKey{}, fmt.Errorf("keys: marshal: %w", err)
		}
		sealed, err := s.Seal(der, AAD(kid))
		if err != nil {
			return store.SigningKey{}, fmt.Errorf("keys: seal: %w", err)
		}
		return store.SigningKey{ID: kid, Algorithm: alg, Sealed: sealed, CreatedAt: now}, nil
	}
}

// unseal opens a stored key into its private key.
func unseal(s Sealer, k store.SigningKey) (crypto.Signer, error) {
	der, err := s.Open(k.Sealed, AAD(k.ID))
	if err != nil {
		return nil, fmt.Errorf("keys: open %s: %w", k.ID, err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: parse %s: %w", k.ID, err)
	}
	signer, ok := p.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: %s is not a signing key", k.ID)
	}
	return signer, nil
}
