package clients

import (
	"strings"
	"testing"

	"github.com/customerhub/hubid/store"
)

func TestCheckRedirectURI(t *testing.T) {
	good := []string{"https://ships.example.com/cb", "http://localhost:9001/callback", "http://127.0.0.1:8080/cb", "https://a.example.com/cb?x=1"}
	bad := []string{"http://ships.example.com/cb", "https://a.example.com/cb#frag", "https://user@a.example.com/cb",
		"https://*.example.com/cb", "/relative", "javascript:alert(1)", "custom://cb", "https://", "ftp://x.example.com/"}
	for _, u := range good {
		if err := CheckRedirectURI(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range bad {
		if err := CheckRedirectURI(u); err == nil {
			t.Errorf("%s: accepted", u)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := Validate(store.Client{ID: "x", Public: true, SecretHash: "sha256:00",
		GrantTypes:   []string{"authorization_code", "client_credentials", "implicit"},
		RedirectURIs: []string{"http://evil.example.com/cb"}})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"grant_types[2]", "no secret", "cannot use client_credentials", "redirect_uris[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestVerifier(t *testing.T) {
	slowCalled := false
	v := Verifier(func(s, h string) bool { slowCalled = true; return s == "imported" && h == "$argon2id$x" })
	h := HashSecret("a-long-random-client-secret-0123456789")
	if !v("a-long-random-client-secret-0123456789", h) {
		t.Fatal("right secret refused")
	}
	if v("wrong", h) || v("", h) {
		t.Fatal("wrong secret accepted")
	}
	if v("anything", "") {
		t.Fatal("empty hash accepted")
	}
	if slowCalled {
		t.Fatal("sha256 hashes must not use the slow verifier")
	}
	if !v("imported", "$argon2id$x") || !slowCalled {
		t.Fatal("slow hashes must use the slow verifier")
	}
}

func TestValidateOrganizationSelection(t *testing.T) {
	base := store.Client{ID: "x", SecretHash: "sha256:00", GrantTypes: []string{"authorization_code"},
		RedirectURIs: []string{"https://x.example/cb"}, ServiceID: "svc"}
	ok := base
	ok.OrganizationSelection = store.OrgSelectionRequired
	if err := Validate(ok); err != nil {
		t.Fatalf("required with a service: %v", err)
	}
	noService := ok
	noService.ServiceID = ""
	if err := Validate(noService); err == nil || !strings.Contains(err.Error(), "organization_selection: required needs") {
		t.Errorf("required without a service: %v", err)
	}
	bad := base
	bad.OrganizationSelection = "always"
	if err := Validate(bad); err == nil || !strings.Contains(err.Error(), `organization_selection: "always"`) {
		t.Errorf("unknown mode: %v", err)
	}
}
