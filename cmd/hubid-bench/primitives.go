package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"syscall"
	"time"

	"github.com/customerhub/hubid/password"
)

// primitives is what the cryptography hubid cannot avoid costs on this
// machine: CPU time per operation, measured in the bench process before
// hubid starts (nothing else of the bench runs then). It turns a target into a share of what the
// crypto alone would allow.
type primitives struct {
	rsaSign, es256Sign, argon2id time.Duration
}

// measurePrimitives times RSA-2048 PKCS#1 v1.5 and ES256 signatures of a
// SHA-256 digest and one argon2id hash with hubid's default parameters.
func measurePrimitives() (primitives, error) {
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
	return fmt.Sprintf("RSA-2048 sign %s ms, ES256 sign %s ms, argon2id (hubid's default parameters) %s ms",
		ms(p.rsaSign), ms(p.es256Sign), ms(p.argon2id))
}
