package seed

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/password"
)

// problemLines parses in and returns the problems as strings; it fails
// when Parse succeeds or returns something other than an *Error.
func problemLines(t *testing.T, in string) []string {
	t.Helper()
	_, err := Parse([]byte(in), "seed.yaml")
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("want *seed.Error, got %v", err)
	}
	var out []string
	for _, p := range se.Problems {
		out = append(out, p.String())
	}
	if got := strings.Join(out, "\n"); got != err.Error() {
		t.Errorf("Error() = %q, want the problems one per line %q", err.Error(), got)
	}
	return out
}

func wantProblems(t *testing.T, in string, want ...string) {
	t.Helper()
	got := problemLines(t, in)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// readDevSeed returns deploy/dev/seed.yaml, the example every change must
// keep working.
func readDevSeed(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../deploy/dev/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestParseDevSeed(t *testing.T) {
	f, err := Parse([]byte(readDevSeed(t)), "deploy/dev/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Organizations) != 3 || len(f.Services) != 2 || len(f.Entitlements) != 4 ||
		len(f.Users) != 4 || len(f.Clients) != 2 || len(f.LegacyLoginIDs) != 3 {
		t.Fatalf("unexpected counts: %+v", f)
	}
	u := f.Users[0]
	if u.Email != "admin@demo.example" || !u.EmailVerified || u.Locale != "en" || u.Password != "hubid-demo-password" {
		t.Errorf("users[0] = %+v", u)
	}
	if got, want := u.Describe(f), "administrator of NK0001 (Nippon Kaiun Demo Co.)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	c := f.Clients[0]
	if c.ID != "nk-ships-demo" || c.Service != "nk-ships" || !c.FirstParty ||
		!slices.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
		!slices.Equal(c.RedirectURIs, []string{"http://localhost:9001/callback"}) {
		t.Errorf("clients[0] = %+v", c)
	}
}

func TestParseReportsEveryProblemWithItsLine(t *testing.T) {
	in := `organizations:
  - code: NK0001
    name: Nippon Kaiun
  - code: NK0001
    name: Again
  - code: "bad code"
    name: Spaces
services:
  - code: nk-ships
users:
  - email: a@example.com
    name: A
    password: short
    memberships:
      - org: NK0001
        role: admin
  - email: A@EXAMPLE.com
    name: Duplicate
    password_hash: $2a$10$short
    password_env: FOO
    locale: "not a locale!"
  - email: not-an-email
    name: C
    memberships:
      - org: NK0001
        role: normal
      - org: NK0001
        role: visitor
clients:
  - id: pub
    name: Public
    public: true
    secret: some-secret
    redirect_uris: [http://example.com/cb, "https://app.example.com/#f"]
    grant_types: [authorization_code, implicit]
  - id: pub
    name: Confidential
    secret: too-short
    grant_types: [client_credentials]
    access_token_type: paseto
legacy_login_ids:
  - login_id: X
    service: nk-ships
    org: NK0001
  - login_id: X
    service: nk-ships
    org: NK0001
    password: legacy-password
`
	wantProblems(t, in,
		`seed.yaml:4: organizations[1].code: duplicate code "NK0001" (first at line 2)`,
		`seed.yaml:6: organizations[2].code: "bad code": want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
		`seed.yaml:9: services[0].name: required`,
		`seed.yaml:13: users[0].password: shorter than 8 characters`,
		`seed.yaml:16: users[0].memberships[0].role: "admin" is not one of administrator, normal, visitor`,
		`seed.yaml:17: users[1].email: duplicate email "A@EXAMPLE.com" (first at line 11)`,
		`seed.yaml:19: users[1].password_hash: malformed bcrypt hash: want 60 characters`,
		`seed.yaml:20: users[1].password_env: password_hash is set too; set only one of password, password_hash or password_env`,
		`seed.yaml:21: users[1].locale: "not a locale!" is not a BCP 47 language tag`,
		`seed.yaml:22: users[2].email: "not-an-email" is not an email address`,
		`seed.yaml:22: users[2]: password, password_hash or password_env is required`,
		`seed.yaml:27: users[2].memberships[1]: duplicate membership of NK0001 (first at line 25)`,
		`seed.yaml:33: clients[0].secret: a public client has no secret`,
		`seed.yaml:34: clients[0].redirect_uris[0]: "http://example.com/cb": http is allowed only for localhost or a loopback address`,
		`seed.yaml:34: clients[0].redirect_uris[1]: "https://app.example.com/#f" must not have a fragment`,
		`seed.yaml:35: clients[0].grant_types[1]: "implicit" is not one of authorization_code, refresh_token, client_credentials`,
		`seed.yaml:36: clients[1].id: duplicate client id "pub" (first at line 30)`,
		`seed.yaml:38: clients[1].secret: shorter than 32 characters`,
		`seed.yaml:40: clients[1].access_token_type: "paseto" is not jwt or opaque`,
		`seed.yaml:42: legacy_login_ids[0]: password, password_hash or password_env is required`,
		`seed.yaml:45: legacy_login_ids[1].login_id: duplicate login ID "X" of nk-ships (first at line 42)`,
	)
}

func TestParseUnknownKey(t *testing.T) {
	wantProblems(t, "organizations:\n  - code: NK0001\n    name: N\n    nmae: typo\n",
		`seed.yaml:4: organizations[0].nmae: unknown field (want one of code, name)`)
	wantProblems(t, "organisations: []\n",
		`seed.yaml:1: organisations: unknown field (want one of organizations, services, entitlements, users, clients, legacy_login_ids)`)
}

func TestParseStructureErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"syntax", "users:\n  - email: [\n", []string{"seed.yaml:2: did not find expected node content"}},
		{"not a mapping", "- a\n- b\n", []string{"seed.yaml:1: want a mapping, got a list"}},
		{"list wanted", "users:\n  email: a@example.com\n", []string{"seed.yaml:1: users: want a list, got a mapping"}},
		{"string wanted", "services:\n  - code: [a]\n    name: A\n", []string{"seed.yaml:2: services[0].code: want a string, got a list"}},
		{"bool wanted", "users:\n  - email: a@example.com\n    name: A\n    password: quiet-harbour-lantern\n    email_verified: \"true\"\n",
			[]string{`seed.yaml:5: users[0].email_verified: want true or false, got "true"`}},
		{"duplicate key", "services:\n  - code: a\n    name: A\n    code: b\n", []string{"seed.yaml:4: services[0].code: duplicate field"}},
		{"alias", "services: &s\n  - code: a\n    name: A\norganizations: *s\n", []string{
			"seed.yaml:1: services: anchors and aliases are not supported",
			"seed.yaml:4: organizations: anchors and aliases are not supported"}},
		{"two documents", "services: []\n---\nusers: []\n", []string{"seed.yaml:2: a seed file holds one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantProblems(t, tt.in, tt.want...) })
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "{}\n", "users: []\n"} {
		f, err := Parse([]byte(in), "seed.yaml")
		if err != nil || f == nil || len(f.Users) != 0 {
			t.Errorf("Parse(%q) = %+v, %v; want an empty file", in, f, err)
		}
	}
}

func TestParseSecretForms(t *testing.T) {
	h := &password.Hasher{Params: password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 16, SaltLen: 8}}
	argon, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	user := func(secret string) string {
		return "users:\n  - email: a@example.com\n    name: A\n    " + secret + "\n"
	}
	client := func(secret string) string {
		return "clients:\n  - id: c\n    name: C\n    grant_types: [client_credentials]\n    " + secret + "\n"
	}
	ok := []string{
		user("password: eight-ch"),
		user("password_hash: '" + argon + "'"),
		user("password_hash: '" + string(bc) + "'"),
		user("password_env: HUBID_ADMIN_PASSWORD"),
		client("secret: " + strings.Repeat("s", clients.MinSecretLength)),
		client("secret_hash: " + clients.HashSecret("x")),
		client("secret_hash: '" + argon + "'"),
		client("secret_env: CLIENT_SECRET"),
	}
	for _, in := range ok {
		if _, err := Parse([]byte(in), "seed.yaml"); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
	bad := map[string]string{
		user("password: seven-c"):                                                   "users[0].password: shorter than 8 characters",
		user("password_hash: '$argon2id$v=19$m=1,t=1,p=1$a$b'"):                     "users[0].password_hash: malformed argon2id hash: parameters m=1,t=1,p=1 are out of bounds",
		user("password_hash: plain-text"):                                           "users[0].password_hash: want an argon2id PHC string",
		user("password_hash: " + clients.HashSecret("x")):                           "users[0].password_hash: want an argon2id PHC string",
		user("password_env: 1BAD-NAME"):                                             `users[0].password_env: "1BAD-NAME" is not an environment variable name`,
		client("secret_hash: sha256:abc"):                                           `clients[0].secret_hash: want "sha256:" and 64 lower-case hex digits`,
		client("secret: a\n    secret_env: B"):                                      "clients[0].secret_env: secret is set too",
		"clients:\n  - id: c\n    name: C\n    grant_types: [client_credentials]\n": "clients[0].secret: required for a confidential client",
	}
	for in, want := range bad {
		got := strings.Join(problemLines(t, in), "\n")
		if !strings.Contains(got, want) {
			t.Errorf("Parse(%q) = %q, want a problem containing %q", in, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	f := &File{Organizations: []Organization{{Code: "A1", Name: "Alpha"}}}
	u := User{Memberships: []Membership{{Org: "A1", Role: "normal"}, {Org: "B2", Role: "visitor"}}, Disabled: true}
	if got, want := u.Describe(f), "normal of A1 (Alpha); visitor of B2 [disabled]"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if got := (User{}).Describe(nil); got != "no organization" {
		t.Errorf("Describe = %q", got)
	}
}

func TestParseOrganizationSelection(t *testing.T) {
	in := `clients:
  - id: a
    name: A
    service: nk-pass
    secret: a-secret-0123456789-0123456789-0123
    redirect_uris: [https://a.example/cb]
    grant_types: [authorization_code]
    organization_selection: required
  - id: b
    name: B
    secret: b-secret-0123456789-0123456789-0123
    redirect_uris: [https://b.example/cb]
    grant_types: [authorization_code]
    organization_selection: required
  - id: c
    name: C
    service: nk-pass
    secret: c-secret-0123456789-0123456789-0123
    redirect_uris: [https://c.example/cb]
    grant_types: [authorization_code]
    organization_selection: sometimes
`
	wantProblems(t, in,
		`seed.yaml:14: clients[1].organization_selection: required needs the client to be bound to a service`,
		`seed.yaml:21: clients[2].organization_selection: "sometimes" is not required (or empty)`)
}

func TestParseClientTokenOptions(t *testing.T) {
	in := `clients:
  - id: a
    name: A
    secret: a-secret-0123456789-0123456789-0123
    redirect_uris: [https://a.example/cb]
    grant_types: [authorization_code, refresh_token]
    refresh_id_token: false
    access_token_signing_algorithm: ES256
  - id: b
    name: B
    secret: b-secret-0123456789-0123456789-0123
    redirect_uris: [https://b.example/cb]
    grant_types: [authorization_code]
  - id: c
    name: C
    secret: c-secret-0123456789-0123456789-0123
    redirect_uris: [https://c.example/cb]
    grant_types: [authorization_code]
    access_token_signing_algorithm: HS256
`
	wantProblems(t, in, `seed.yaml:19: clients[2].access_token_signing_algorithm: "HS256" is not RS256 or ES256`)
	f, err := Parse([]byte(in[:strings.Index(in, "  - id: c")]), "seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Clients[0].record(), f.Clients[1].record()
	if !a.OmitRefreshIDToken || a.AccessTokenSigningAlgorithm != "ES256" {
		t.Errorf("client a: refresh_id_token false and ES256 not carried: %+v", a)
	}
	if b.OmitRefreshIDToken || b.AccessTokenSigningAlgorithm != "" {
		t.Errorf("client b: the defaults changed: %+v", b)
	}
}
