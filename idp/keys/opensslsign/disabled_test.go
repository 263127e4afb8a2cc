//go:build !(openssl && cgo)

package opensslsign_test

import (
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/customerhub/hubid/idp/keys/opensslsign"
)

// Without the tag the package says so instead of signing.
func TestDisabledWithoutTag(t *testing.T) {
	if opensslsign.Available {
		t.Fatal("Available without -tags openssl")
	}
	if _, err := opensslsign.Init(); err == nil || !strings.Contains(err.Error(), "-tags openssl") {
		t.Fatalf("Init error = %v, want one naming -tags openssl", err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := opensslsign.New(priv); err == nil || s != nil {
		t.Fatalf("New = %v, %v; want an error", s, err)
	}
}
