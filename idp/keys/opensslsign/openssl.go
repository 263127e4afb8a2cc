//go:build openssl && cgo

package opensslsign

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// Available reports whether this binary was built with the OpenSSL signer.
const Available = true

var (
	initOnce    sync.Once
	initVersion string
	initErr     error
)

// Init loads libcrypto (the first of Libraries that dlopen finds) once and
// returns OpenSSL's version text. Every later call returns the first
// call's result.
func Init() (version string, err error) {
	initOnce.Do(func() {
		for _, lib := range Libraries {
			// openssl.Init only acts once, so find a library that loads
			// before handing it over.
			if exists, _ := openssl.CheckVersion(lib); !exists {
				continue
			}
			if err := openssl.Init(lib); err != nil {
				initErr = fmt.Errorf("opensslsign: initialize OpenSSL from %s: %w", lib, err)
				return
			}
			initVersion = openssl.VersionText()
			return
		}
		initErr = fmt.Errorf("opensslsign: cannot load OpenSSL's libcrypto (tried %s): install OpenSSL 3 (Debian: libssl3), or run a binary built without -tags openssl",
			strings.Join(Libraries, ", "))
	})
	return initVersion, initErr
}

// signer is an RSA key held by OpenSSL; it signs RS256 only.
type signer struct {
	key *openssl.PrivateKeyRSA
	pub *rsa.PublicKey
}

// New returns a jose.OpaqueSigner that signs RS256 with priv through
// OpenSSL (calling Init first). It checks one signature against crypto/rsa
// before returning, so a key OpenSSL holds wrongly fails here, not in
// every token.
func New(priv *rsa.PrivateKey) (jose.OpaqueSigner, error) {
	if _, err := Init(); err != nil {
		return nil, err
	}
	if len(priv.Primes) != 2 {
		return nil, fmt.Errorf("opensslsign: RSA key with %d primes: only two-prime keys are supported", len(priv.Primes))
	}
	p, q := priv.Primes[0], priv.Primes[1]
	dp, dq, qinv := priv.Precomputed.Dp, priv.Precomputed.Dq, priv.Precomputed.Qinv
	if dp == nil || dq == nil || qinv == nil {
		one := big.NewInt(1)
		dp = new(big.Int).Mod(priv.D, new(big.Int).Sub(p, one))
		dq = new(big.Int).Mod(priv.D, new(big.Int).Sub(q, one))
		qinv = new(big.Int).ModInverse(q, p)
	}
	key, err := openssl.NewPrivateKeyRSA(bbig.Enc(priv.N), bbig.Enc(big.NewInt(int64(priv.E))), bbig.Enc(priv.D),
		bbig.Enc(p), bbig.Enc(q), bbig.Enc(dp), bbig.Enc(dq), bbig.Enc(qinv))
	if err != nil {
		return nil, fmt.Errorf("opensslsign: load RSA key into OpenSSL: %w", err)
	}
	s := &signer{key: key, pub: &priv.PublicKey}
	probe := []byte("hubid opensslsign self-test")
	sig, err := s.SignPayload(probe, jose.RS256)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(probe)
	if err := rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, h[:], sig); err != nil {
		return nil, fmt.Errorf("opensslsign: self-test: OpenSSL's signature does not verify with crypto/rsa: %w", err)
	}
	return s, nil
}

// Public returns the public key (without a kid: callers name the key).
func (s *signer) Public() *jose.JSONWebKey { return &jose.JSONWebKey{Key: s.pub} }

// Algs returns RS256, the only algorithm the signer makes.
func (s *signer) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.RS256} }

// errAlg: the signer was asked for another algorithm than RS256.
var errAlg = errors.New("opensslsign: only RS256 is supported")

// SignPayload signs the SHA-256 digest of payload with PKCS#1 v1.5.
func (s *signer) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.RS256 {
		return nil, fmt.Errorf("%w, not %s", errAlg, alg)
	}
	h := sha256.Sum256(payload)
	sig, err := openssl.SignRSAPKCS1v15(s.key, crypto.SHA256, h[:])
	if err != nil {
		return nil, fmt.Errorf("opensslsign: sign: %w", err)
	}
	return sig, nil
}
