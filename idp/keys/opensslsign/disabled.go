//go:build !(openssl && cgo)

package opensslsign

import (
	"crypto/rsa"
	"errors"

	jose "github.com/go-jose/go-jose/v4"
)

// Available reports whether this binary was built with the OpenSSL signer.
const Available = false

var errDisabled = errors.New("opensslsign: this binary was built without the OpenSSL signer (it needs -tags openssl and cgo: make build-openssl)")

// Init fails: the binary was built without -tags openssl or without cgo.
func Init() (version string, err error) { return "", errDisabled }

// New fails: the binary was built without -tags openssl or without cgo.
func New(*rsa.PrivateKey) (jose.OpaqueSigner, error) { return nil, errDisabled }
