// Package clients validates client registrations and hashes and verifies
// client secrets.
package clients

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/customerhub/hubid/store"
)

// Grant types a client may register.
var GrantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}

// AccessTokenAlgorithms are the values of a client's
// access_token_signing_algorithm ("" is RS256, the default).
var AccessTokenAlgorithms = []string{"", "RS256", "ES256"}

// MinSecretLength is the shortest client secret accepted (characters).
const MinSecretLength = 32

// HashSecret hashes a client secret for storage. Client secrets are long
// random strings (≥ MinSecretLength), so a fast hash is right: a slow
// password hash would only cost every token request (see
// docs/decisions.md).
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(h[:])
}

// PasswordVerifier verifies slow hashes (imported argon2id/bcrypt secrets).
type PasswordVerifier func(secret, encoded string) bool

// Verifier returns a function that checks a secret against a stored hash:
// "sha256:" hashes directly, anything else through slow. An empty hash
// (unknown client) still spends a comparison and fails.
func Verifier(slow PasswordVerifier) func(secret, hash string) bool {
	return func(secret, hash string) bool {
		if want, ok := strings.CutPrefix(hash, "sha256:"); ok || hash == "" {
			got := HashSecret(secret)[len("sha256:"):]
			return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 && hash != ""
		}
		return slow(secret, hash)
	}
}

// Validate checks a client registration and returns every problem found.
func Validate(c store.Client) error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.ID == "" || len(c.ID) > 128 || strings.ContainsAny(c.ID, " \t\r\n:") {
		add("id: 1-128 characters without spaces or colons")
	}
	for i, g := range c.GrantTypes {
		if !slices.Contains(GrantTypes, g) {
			add("grant_types[%d]: %q is not one of %s", i, g, strings.Join(GrantTypes, ", "))
		}
	}
	if len(c.GrantTypes) == 0 {
		add("grant_types: at least one")
	}
	code := slices.Contains(c.GrantTypes, "authorization_code")
	if code && len(c.RedirectURIs) == 0 {
		add("redirect_uris: required for authorization_code")
	}
	if c.Public {
		if c.SecretHash != "" {
			add("secret: a public client has no secret")
		}
		if slices.Contains(c.GrantTypes, "client_credentials") {
			add("grant_types: a public client cannot use client_credentials")
		}
	} else if c.SecretHash == "" {
		add("secret: required for a confidential client")
	}
	if slices.Contains(c.GrantTypes, "refresh_token") && !code {
		add("grant_types: refresh_token needs authorization_code")
	}
	for i, u := range c.RedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			add("redirect_uris[%d]: %v", i, err)
		}
	}
	for i, u := range c.PostLogoutRedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			add("post_logout_redirect_uris[%d]: %v", i, err)
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := CheckRedirectURI(c.BackchannelLogoutURI); err != nil {
			add("backchannel_logout_uri: %v", err)
		}
	}
	if c.HomeURL != "" {
		if err := CheckRedirectURI(c.HomeURL); err != nil {
			add("home_url: %v", err)
		}
	}
	switch c.AccessTokenType {
	case "", store.AccessTokenJWT, store.AccessTokenOpaque:
	default:
		add("access_token_type: %q is not jwt or opaque", c.AccessTokenType)
	}
	if !slices.Contains(AccessTokenAlgorithms, c.AccessTokenSigningAlgorithm) {
		add("access_token_signing_algorithm: %q is not RS256 or ES256", c.AccessTokenSigningAlgorithm)
	}
	switch c.OrganizationSelection {
	case store.OrgSelectionOptional:
	case store.OrgSelectionRequired:
		if c.ServiceID == "" {
			add("organization_selection: required needs the client to be bound to a service")
		}
	default:
		add("organization_selection: %q is not required (or empty)", c.OrganizationSelection)
	}
	return errors.Join(errs...)
}

// CheckRedirectURI accepts an absolute https URL, or http for a loopback
// host only; no fragment, no user info, no wildcard (RFC 6749 §3.1.2,
// RFC 8252 §8.3, OAuth 2.0 Security BCP).
func CheckRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	switch {
	case !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%q must not have a fragment", raw)
	case u.User != nil:
		return fmt.Errorf("%q must not contain user information", raw)
	case strings.Contains(raw, "*"):
		return fmt.Errorf("%q must not contain a wildcard", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return fmt.Errorf("%q: http is allowed only for localhost or a loopback address", raw)
	}
	return fmt.Errorf("%q: scheme must be https", raw)
}
