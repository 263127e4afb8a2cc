// Package seed reads hubid seed files and applies them to the durable store.
//
// A seed file is YAML that lists organizations, services, entitlements,
// users (with their memberships), clients and legacy login IDs; the format
// is described in docs/seed.md and deploy/dev/seed.yaml is an example.
//
// Parse decodes a file strictly (an unknown key is an error) and validates
// everything that can be checked without a store, reporting every problem at
// once in an *Error whose lines read "file:line: field path: problem".
// Apply then checks the references against the store and writes, in one
// transaction, every record that does not exist yet: existing records are
// never changed, so applying the same file again changes nothing. Secrets
// may come from environment variables (password_env, secret_env), so
// production seed files hold none.
package seed

import (
	"fmt"
	"strings"

	"github.com/customerhub/hubid/store"
)

// File is a parsed seed file. Records are created in the order of the
// fields: organizations and services first, then what refers to them.
type File struct {
	Organizations  []Organization  `yaml:"organizations"`
	Services       []Service       `yaml:"services"`
	Entitlements   []Entitlement   `yaml:"entitlements"`
	Users          []User          `yaml:"users"`
	Clients        []Client        `yaml:"clients"`
	LegacyLoginIDs []LegacyLoginID `yaml:"legacy_login_ids"`

	name  string         // file name for messages
	lines map[string]int // field path -> line, filled by Parse
}

// Organization is a customer company, keyed by its code.
type Organization struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
}

// Service is a web service of the hub, keyed by its code.
type Service struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
}

// Entitlement lets an organization (by code) use a service (by code).
type Entitlement struct {
	Org     string `yaml:"org"`
	Service string `yaml:"service"`
}

// User is a person, keyed by email (compared folded). Exactly one of
// Password, PasswordHash and PasswordEnv is set.
type User struct {
	Email         string       `yaml:"email"`
	Name          string       `yaml:"name"`
	Locale        string       `yaml:"locale"`
	EmailVerified bool         `yaml:"email_verified"`
	Disabled      bool         `yaml:"disabled"`
	Password      string       `yaml:"password"`      // plain text, hashed on creation
	PasswordHash  string       `yaml:"password_hash"` // argon2id PHC string or bcrypt
	PasswordEnv   string       `yaml:"password_env"`  // name of a variable holding the password
	Memberships   []Membership `yaml:"memberships"`
}

// Membership makes the user act for an organization (by code) with a role.
type Membership struct {
	Org  string     `yaml:"org"`
	Role store.Role `yaml:"role"`
}

// Client is an OAuth 2.0 / OIDC relying party, keyed by ID. A confidential
// client has exactly one of Secret, SecretHash and SecretEnv; a public one
// has none.
type Client struct {
	ID                     string                `yaml:"id"`
	Name                   string                `yaml:"name"`
	Service                string                `yaml:"service"` // code; "" = not bound to a service
	Public                 bool                  `yaml:"public"`
	Secret                 string                `yaml:"secret"`      // plain text, hashed on creation
	SecretHash             string                `yaml:"secret_hash"` // "sha256:<hex>", argon2id or bcrypt
	SecretEnv              string                `yaml:"secret_env"`  // name of a variable holding the secret
	RedirectURIs           []string              `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string              `yaml:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string                `yaml:"backchannel_logout_uri"`
	HomeURL                string                `yaml:"home_url"`
	GrantTypes             []string              `yaml:"grant_types"`
	FirstParty             bool                  `yaml:"first_party"`
	AccessTokenType        store.AccessTokenType `yaml:"access_token_type"`
	// OrganizationSelection "required": every sign-in selects exactly one
	// organization (the org claim).
	OrganizationSelection store.OrganizationSelection `yaml:"organization_selection"`
	// RefreshIDToken false: the refresh grant answers without an ID token
	// (absent: true, an ID token on every refresh).
	RefreshIDToken *bool `yaml:"refresh_id_token"`
	// AccessTokenSigningAlgorithm signs JWT access tokens: RS256 (absent)
	// or ES256.
	AccessTokenSigningAlgorithm string `yaml:"access_token_signing_algorithm"`
}

// LegacyLoginID is an organization-level login ID of a service, keyed by
// service and login ID. Exactly one of Password, PasswordHash and
// PasswordEnv is set.
type LegacyLoginID struct {
	LoginID      string `yaml:"login_id"`
	Service      string `yaml:"service"`
	Org          string `yaml:"org"`
	Disabled     bool   `yaml:"disabled"`
	Password     string `yaml:"password"`
	PasswordHash string `yaml:"password_hash"`
	PasswordEnv  string `yaml:"password_env"`
}

// Describe summarizes the user's memberships for people, e.g.
// "administrator of NK0001 (Nippon Kaiun Demo Co.)", naming organizations
// as f defines them.
func (u User) Describe(f *File) string {
	names := map[string]string{}
	if f != nil {
		for _, o := range f.Organizations {
			names[o.Code] = o.Name
		}
	}
	var parts []string
	for _, m := range u.Memberships {
		s := fmt.Sprintf("%s of %s", m.Role, m.Org)
		if n := names[m.Org]; n != "" {
			s += " (" + n + ")"
		}
		parts = append(parts, s)
	}
	d := strings.Join(parts, "; ")
	if d == "" {
		d = "no organization"
	}
	if u.Disabled {
		d += " [disabled]"
	}
	return d
}
