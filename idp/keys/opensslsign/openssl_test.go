//go:build openssl && cgo

package opensslsign_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/customerhub/hubid/idp/keys/opensslsign"
	"github.com/customerhub/hubid/internal/testenv"
)

func initOpenSSL(t *testing.T) {
	t.Helper()
	if !opensslsign.Available {
		t.Fatal("built with -tags openssl and cgo, yet Available is false")
	}
	v, err := opensslsign.Init()
	if err != nil {
		testenv.Unavailable(t, "OpenSSL's libcrypto", err)
	}
	if v == "" {
		t.Fatal("Init returned no version text")
	}
	t.Logf("OpenSSL: %s", v)
}

// newSigner returns a new 2048-bit key and its OpenSSL signer.
func newSigner(t *testing.T) (*rsa.PrivateKey, jose.OpaqueSigner) {
	t.Helper()
	initOpenSSL(t)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := opensslsign.New(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, s
}

// The OpenSSL signatures are crypto/rsa's, byte for byte, for keys of each
// size hubid makes and payloads of several lengths.
func TestSignaturesEqualCryptoRSA(t *testing.T) {
	initOpenSSL(t)
	for _, bits := range []int{2048, 2048, 3072} {
		priv, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		s, err := opensslsign.New(priv)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Algs(); len(got) != 1 || got[0] != jose.RS256 {
			t.Fatalf("Algs = %v, want [RS256]", got)
		}
		if pub, ok := s.Public().Key.(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) {
			t.Fatalf("Public().Key = %T, not the key's public key", s.Public().Key)
		}
		for _, n := range []int{0, 1, 100, 1000, 5000} {
			payload := make([]byte, n)
			if _, err := rand.Read(payload); err != nil {
				t.Fatal(err)
			}
			got, err := s.SignPayload(payload, jose.RS256)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.Sum256(payload)
			want, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, h[:])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%d-bit key, %d-byte payload: OpenSSL's signature differs from crypto/rsa's", bits, n)
			}
			if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, h[:], got); err != nil {
				t.Fatalf("%d-bit key, %d-byte payload: %v", bits, n, err)
			}
		}
	}
}

// A key parsed without its CRT values (Precomputed empty) signs alike.
func TestKeyWithoutPrecomputedValues(t *testing.T) {
	initOpenSSL(t)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	bare := &rsa.PrivateKey{PublicKey: priv.PublicKey, D: priv.D, Primes: priv.Primes}
	s, err := opensslsign.New(bare)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.SignPayload([]byte("payload"), jose.RS256)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("payload"))
	want, _ := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, h[:])
	if !bytes.Equal(got, want) {
		t.Fatal("signature differs from crypto/rsa's")
	}
}

func TestOtherAlgorithmsRefused(t *testing.T) {
	_, s := newSigner(t)
	for _, alg := range []jose.SignatureAlgorithm{jose.PS256, jose.RS384, jose.RS512, jose.ES256, jose.EdDSA} {
		if sig, err := s.SignPayload([]byte("x"), alg); err == nil || sig != nil {
			t.Errorf("SignPayload(%s) = %d bytes, %v; want an error", alg, len(sig), err)
		}
	}
	// go-jose refuses them too, before asking the signer.
	if _, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: s}, nil); !errors.Is(err, jose.ErrUnsupportedAlgorithm) {
		t.Errorf("jose.NewSigner(PS256) error = %v, want ErrUnsupportedAlgorithm", err)
	}
}

// Through go-jose, as hubid signs: the JWS verifies with the public key
// and carries the kid of the JSONWebKey wrapper.
func TestSignsThroughJose(t *testing.T) {
	priv, s := newSigner(t)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: &jose.JSONWebKey{Key: s, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"sub":"u"}`))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if kid := parsed.Signatures[0].Header.KeyID; kid != "k1" {
		t.Errorf("kid = %q, want k1", kid)
	}
	if got, err := parsed.Verify(&priv.PublicKey); err != nil || string(got) != `{"sub":"u"}` {
		t.Fatalf("Verify = %q, %v", got, err)
	}
}
