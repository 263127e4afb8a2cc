package oidcstore

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// ACR values: what the person proved at sign-in.
const (
	ACRPassword = "urn:hubid:acr:password"
	ACRMFA      = "urn:hubid:acr:mfa"
)

// ACRFor returns the acr for a set of authentication methods.
func ACRFor(amr []string) string {
	for _, m := range amr {
		if m == "otp" || m == "mfa" {
			return ACRMFA
		}
	}
	return ACRPassword
}

// AuthRequest adapts a store.AuthRequest to op.AuthRequest.
type AuthRequest struct {
	r       store.AuthRequest
	grantID string       // set when loaded by code
	claims  *orgs.Claims // computed once per token request
}

var _ op.AuthRequest = (*AuthRequest)(nil)

// WrapAuthRequest adapts a stored request (for op's error helpers).
func WrapAuthRequest(r store.AuthRequest) *AuthRequest { return &AuthRequest{r: r} }

// Record returns the stored request.
func (a *AuthRequest) Record() store.AuthRequest { return a.r }

// GetID returns the request ID.
func (a *AuthRequest) GetID() string { return a.r.ID }

// GetACR returns the authentication context class.
func (a *AuthRequest) GetACR() string { return ACRFor(a.r.AMR) }

// GetAMR returns the authentication methods.
func (a *AuthRequest) GetAMR() []string { return a.r.AMR }

// GetAudience is the client.
func (a *AuthRequest) GetAudience() []string { return []string{a.r.ClientID} }

// GetAuthTime is when the person authenticated.
func (a *AuthRequest) GetAuthTime() time.Time { return a.r.AuthTime }

// GetClientID returns the client.
func (a *AuthRequest) GetClientID() string { return a.r.ClientID }

// GetCodeChallenge returns the PKCE challenge (S256 only).
func (a *AuthRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}

// GetNonce returns the nonce.
func (a *AuthRequest) GetNonce() string { return a.r.Nonce }

// GetRedirectURI returns the redirect URI.
func (a *AuthRequest) GetRedirectURI() string { return a.r.RedirectURI }

// GetResponseType returns the response type.
func (a *AuthRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.r.ResponseType) }

// GetResponseMode returns the response mode.
func (a *AuthRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.r.ResponseMode) }

// GetScopes returns the scopes.
func (a *AuthRequest) GetScopes() []string { return a.r.Scopes }

// GetState returns the state.
func (a *AuthRequest) GetState() string { return a.r.State }

// GetSubject returns the user ID once authenticated.
func (a *AuthRequest) GetSubject() string { return a.r.UserID }

// Done reports whether the person has authenticated.
func (a *AuthRequest) Done() bool { return a.r.Done }

// GetSessionID returns the browser session (the sid claim).
func (a *AuthRequest) GetSessionID() string { return a.r.SessionID }

func tagsToStrings(tags []language.Tag) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		out = append(out, t.String())
	}
	return out
}
