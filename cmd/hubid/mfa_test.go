package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMFACommands: hubid orgs require-mfa and hubid users reset-mfa on a
// dev data directory (a person without an authenticator is refused).
func TestMFACommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	seedFile := filepath.Join(t.TempDir(), "seed.yaml")
	writeFile(t, seedFile, `organizations:
  - code: ORG1
    name: Org One
users:
  - email: a@example.com
    name: A
    password: long-enough-password
    memberships:
      - org: ORG1
        role: administrator
`)
	var out bytes.Buffer
	hubid := func(want int, args ...string) string {
		t.Helper()
		out.Reset()
		if code := run(context.Background(), args, &out, &out); code != want {
			t.Fatalf("hubid %v: exit %d, want %d: %s", args, code, want, out.String())
		}
		return out.String()
	}
	hubid(0, "seed", "apply", "--data", dir, seedFile)
	if s := hubid(0, "orgs", "require-mfa", "--data", dir, "ORG1", "on"); !strings.Contains(s, "ORG1: two-step verification required = true") {
		t.Fatalf("require-mfa: %s", s)
	}
	hubid(2, "orgs", "require-mfa", "--data", dir, "ORG1", "maybe")
	hubid(1, "orgs", "require-mfa", "--data", dir, "NOPE", "on")
	if s := hubid(1, "users", "reset-mfa", "--data", dir, "a@example.com"); !strings.Contains(s, "not set up") {
		t.Fatalf("reset-mfa without an authenticator: %s", s)
	}
	hubid(2, "users", "reset-mfa", "--data", dir)
}
