// Package opensslsign signs RS256 (RSA PKCS#1 v1.5 with SHA-256) through
// OpenSSL 3's libcrypto instead of Go's crypto/rsa, for idp/keys
// (keys.Config.RSASigner).
//
// Why: a refresh grant whose client asks for no new ID token makes one
// RSA-2048 signature, and Go's crypto/rsa takes about 1.7 ms for it on the
// machines hubid is measured on, which caps such refreshes near 650 per
// CPU-second. libcrypto (which uses AVX-512 IFMA where present) takes
// about 0.5 ms. PKCS#1 v1.5 is deterministic, so the signatures are
// byte-identical to crypto/rsa's: verifiers cannot tell them apart.
//
// The OpenSSL signer exists only in binaries built with `-tags openssl`
// and cgo (make build-openssl); it uses github.com/golang-fips/openssl,
// which loads libcrypto with dlopen when Init is called, so the binary
// needs libcrypto 3 and glibc at run time, not at build time alone. Other
// builds — the default, pure Go and static — have Available false, and
// Init and New fail saying so.
package opensslsign

// Libraries are the shared libraries Init tries, in order.
var Libraries = []string{"libcrypto.so.3", "libcrypto.so"}
