package main

import (
	"crypto/rsa"
	"fmt"
	"log/slog"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/customerhub/hubid/idp/keys/opensslsign"
)

// rsaSignerName names the RS256 signer this binary was built with, for
// `hubid version`.
func rsaSignerName() string {
	if opensslsign.Available {
		return "openssl"
	}
	return "crypto/rsa"
}

// rsaSigner returns what signs with the active RS256 keys: OpenSSL's
// libcrypto in a binary built with -tags openssl (make build-openssl),
// else nil (Go's crypto/rsa). It logs the choice once. A -tags openssl
// binary that cannot load libcrypto refuses to start: the operator chose
// that build for its signing speed, and a silent fallback would hide that
// it is gone.
func rsaSigner(log *slog.Logger) (func(*rsa.PrivateKey) (jose.OpaqueSigner, error), error) {
	if !opensslsign.Available {
		log.Info("RSA signer", slog.String("rsa_signer", rsaSignerName()))
		return nil, nil
	}
	v, err := opensslsign.Init()
	if err != nil {
		return nil, fmt.Errorf("this hubid was built with -tags openssl to sign RS256 with OpenSSL, but cannot load it: %w", err)
	}
	log.Info("RSA signer", slog.String("rsa_signer", rsaSignerName()), slog.String("openssl_version", v))
	return newOpenSSLSigner, nil
}

// newOpenSSLSigner is opensslsign.New; tests wrap it to count signatures.
var newOpenSSLSigner = opensslsign.New
