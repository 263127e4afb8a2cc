package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/customerhub/hubid/idp/keys/opensslsign"
	"github.com/customerhub/hubid/password"
)

// primitives is what the cryptography hubid cannot avoid costs on this
// machine: CPU time per operation, measured in the bench process before
// hubid starts (nothing else of the bench runs then). It turns a target into a share of what the
// crypto alone would allow.
type primitives struct {
	// rsaSign is hubid's RSA signer's: crypto/rsa, or OpenSSL when hubid
	// was built with -tags openssl (then rsaSignGo is crypto/rsa's).
	rsaSign, es256Sign, argon2id time.Duration
	rsaSignGo                    time.Duration
}

// errOpenSSLBench: hubid signs with OpenSSL, the bench cannot time it.
var errOpenSSLBench = errors.New("hubid signs RS256 with OpenSSL (built with -tags openssl) but this hubid-bench was built without it and cannot time OpenSSL's signature for the crypto bound: run it with the same tag (go run -tags openssl ./cmd/hubid-bench -tags openssl ...)")

// measurePrimitives times RSA-2048 PKCS#1 v1.5 and ES256 signatures of a
// SHA-256 digest and one argon2id hash with hubid's default parameters.
// With openssl (hubid signs RS256 with OpenSSL) the RSA signature is timed
// through idp/keys/opensslsign, as hubid makes it, and crypto/rsa's is
// kept beside it; the bench must then be built with -tags openssl too.
func measurePrimitives(openssl bool) (primitives, error) {
	var p primitives
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return p, err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	digest := sha256.Sum256([]byte("hubid-bench"))
	h := &password.Hasher{Params: password.DefaultParams()}
	var failed error
	p.rsaSign = processCPU(200, func() {
		if _, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, digest[:]); err != nil {
			failed = err
		}
	})
	if openssl {
		if !opensslsign.Available {
			return p, errOpenSSLBench
		}
		s, err := opensslsign.New(rk)
		if err != nil {
			return p, err
		}
		p.rsaSignGo = p.rsaSign
		// SignPayload hashes the 32 bytes again: ~0.1 µs of ~500.
		p.rsaSign = processCPU(1000, func() {
			if _, err := s.SignPayload(digest[:], jose.RS256); err != nil {
				failed = err
			}
		})
	}
	p.es256Sign = processCPU(2000, func() {
		if _, err := ecdsa.SignASN1(rand.Reader, ek, digest[:]); err != nil {
			failed = err
		}
	})
	p.argon2id = processCPU(10, func() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			failed = err
		}
	})
	return p, failed
}

// processCPU returns the CPU time of one run of fn (user + system of the
// whole process, from getrusage: argon2 works on goroutines of its own,
// and the garbage collector's share belongs to the cost), averaged over n
// runs after one warm-up run.
func processCPU(n int, fn func()) time.Duration {
	fn()
	before := rusageSelf()
	for range n {
		fn()
	}
	return (rusageSelf() - before) / time.Duration(n)
}

func rusageSelf() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// describe is the report's line on the primitives.
func (p primitives) describe() string {
	rsaSign := ms(p.rsaSign) + " ms"
	if p.rsaSignGo > 0 {
		rsaSign += fmt.Sprintf(" (OpenSSL's libcrypto, as hubid built with -tags openssl signs, timed through idp/keys/opensslsign in the bench built with the same tag; Go's crypto/rsa %s ms)", ms(p.rsaSignGo))
	}
	return fmt.Sprintf("RSA-2048 sign %s, ES256 sign %s ms, argon2id (hubid's default parameters) %s ms",
		rsaSign, ms(p.es256Sign), ms(p.argon2id))
}
