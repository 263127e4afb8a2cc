package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/keys/opensslsign"
	"github.com/customerhub/hubid/internal/testenv"
)

func TestHasTag(t *testing.T) {
	for tags, want := range map[string]bool{"openssl": true, "cluster,openssl": true, "a openssl": true,
		"": false, "opensslx": false, "cluster": false} {
		if got := hasTag(tags, "openssl"); got != want {
			t.Errorf("hasTag(%q) = %v", tags, got)
		}
	}
}

// The bench reads hubid's RSA signer from `hubid version`.
func TestHubidRSASigner(t *testing.T) {
	dir := t.TempDir()
	for out, want := range map[string]string{
		"hubid v1 commit abc go1.26.8 rsa-signer openssl":    "openssl",
		"hubid v1 commit abc go1.26.8 rsa-signer crypto/rsa": "crypto/rsa",
		"hubid v1 commit abc go1.26.8":                       "crypto/rsa", // older hubid
	} {
		bin := filepath.Join(dir, "hubid")
		if err := os.WriteFile(bin, []byte("#!/bin/sh\necho '"+out+"'\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		got, err := hubidRSASigner(context.Background(), bin)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", out, got, err, want)
		}
		_ = os.Remove(bin)
	}
}

// With hubid signing through OpenSSL the crypto bound is OpenSSL's, which
// only a bench built with -tags openssl can time; others refuse.
func TestPrimitivesOfAnOpenSSLHubid(t *testing.T) {
	if opensslsign.Available {
		if _, err := opensslsign.Init(); err != nil {
			testenv.Unavailable(t, "OpenSSL's libcrypto", err)
		}
	}
	p, err := measurePrimitives(true)
	if !opensslsign.Available {
		if !errors.Is(err, errOpenSSLBench) {
			t.Fatalf("a bench without -tags openssl measured an OpenSSL hubid: %+v, %v", p, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if p.rsaSign <= 0 || p.rsaSignGo <= 0 {
		t.Fatalf("OpenSSL and crypto/rsa signatures not both timed: %+v", p)
	}
}

func TestDescribeNamesOpenSSL(t *testing.T) {
	p := primitives{rsaSign: 500 * time.Microsecond, rsaSignGo: 1700 * time.Microsecond, es256Sign: 50 * time.Microsecond, argon2id: 30 * time.Millisecond}
	d := p.describe()
	for _, want := range []string{"RSA-2048 sign 0.50 ms (OpenSSL", "crypto/rsa 1.70 ms)", "ES256 sign 0.05 ms"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe() lacks %q: %s", want, d)
		}
	}
}
