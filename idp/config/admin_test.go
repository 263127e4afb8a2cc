package config

import (
	"strings"
	"testing"
)

func TestAdminSection(t *testing.T) {
	c, err := Parse([]byte("issuer: https://id.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin.Token.IsSet() {
		t.Fatal("the admin API must be off by default")
	}
	c, err = Parse([]byte("issuer: https://id.example.com\nadmin:\n  token: {env: HUBID_ADMIN_TOKEN}\n"))
	if err != nil || c.Admin.Token.Env != "HUBID_ADMIN_TOKEN" {
		t.Fatalf("admin.token: %+v %v", c.Admin, err)
	}
	// Every problem is reported, the admin ones among the others.
	_, err = Parse([]byte(`issuer: https://id.example.com
listen:
  metrics: ""
admin:
  token: {env: A, file: /b}
keys:
  rsa_bits: 1024
`))
	p := strings.Join(problems(t, err), "\n")
	for _, want := range []string{"admin.token: set env or file, not both", "admin.token: the admin API is served on listen.metrics", "keys.rsa_bits"} {
		if !strings.Contains(p, want) {
			t.Errorf("missing %q in\n%s", want, p)
		}
	}
}
