//go:build cluster

package clustertest

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// The hubid binary, built once for the package by hubidBinary.
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hubid-clustertest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// hubidBinary builds cmd/hubid the first time a test needs it.
func hubidBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() { binPath, binError = BuildHubid(binDir) })
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// seedYAML: one organization entitled to one service, a confidential
// first-party client with every grant, and one person.
const seedYAML = `organizations:
  - {code: ACME, name: Acme}
services:
  - {code: ships, name: Ships}
entitlements:
  - {org: ACME, service: ships}
clients:
  - id: ships
    name: Ships
    service: ships
    secret: ships-secret-0123456789-0123456789-abcd
    first_party: true
    redirect_uris: [https://ships.example/callback]
    grant_types: [authorization_code, refresh_token, client_credentials]
users:
  - {email: aiko@example.com, name: Aiko, email_verified: true, password: "correct horse battery staple", memberships: [{org: ACME, role: normal}]}
`

const (
	rpID       = "ships"
	rpSecret   = "ships-secret-0123456789-0123456789-abcd"
	rpRedirect = "https://ships.example/callback"
	email      = "aiko@example.com"
	password   = "correct horse battery staple"
)
