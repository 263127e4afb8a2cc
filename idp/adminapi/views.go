package adminapi

import (
	"time"

	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// The JSON shapes of the resources. The OpenAPI schemas are derived from
// these types (openapi.go), so the document follows them.

// codeName is what organizations and services show alike.
type codeName struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Organization is a customer company.
type Organization struct{ codeName }

func orgView(o store.Organization) Organization {
	return Organization{codeName{ID: o.ID, Code: o.Code, Name: o.Name, CreatedAt: o.CreatedAt.UTC()}}
}

// User is a person (never their password hash).
type User struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name"`
	Locale        string    `json:"locale"`
	Disabled      bool      `json:"disabled"`
	HasPassword   bool      `json:"has_password"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func userView(u store.User) User {
	return User{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, Locale: u.Locale,
		Disabled: u.Disabled, HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

// accountUser is the same view of the organizations service's Account.
func accountUser(u orgs.Account) User {
	return User{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, Locale: u.Locale,
		Disabled: u.Disabled, HasPassword: u.HasPassword, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

// Membership is a person's account type in one organization.
type Membership struct {
	UserID    string    `json:"user_id"`
	OrgID     string    `json:"org_id"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func membershipView(m store.Membership) Membership {
	return Membership{UserID: m.UserID, OrgID: m.OrgID, Role: string(m.Role), CreatedAt: m.CreatedAt.UTC()}
}

// Member is a membership as an organization's members list shows it: the
// person, their account type, two-step status and last sign-in. Its ETag
// covers the membership (memberTag), not the sign-in data.
type Member struct {
	OrgID string `json:"org_id"`
	orgs.Member
}

func memberView(orgID string, m orgs.Member) Member {
	m.Joined, m.LastSignIn = m.Joined.UTC(), m.LastSignIn.UTC()
	return Member{OrgID: orgID, Member: m}
}

// memberTag is the version of a membership: who, where, which role.
func memberTag(m Member) string {
	return etagOf(Membership{UserID: m.UserID, OrgID: m.OrgID, Role: string(m.Role), CreatedAt: m.Joined})
}

// Invitation is an invitation to join an organization (never its token).
type Invitation = orgs.Invitation

func invitationView(i orgs.Invitation) Invitation {
	i.CreatedAt, i.ExpiresAt, i.AcceptedAt, i.CancelledAt = i.CreatedAt.UTC(), i.ExpiresAt.UTC(), i.AcceptedAt.UTC(), i.CancelledAt.UTC()
	return i
}

// timeKey is a paging key in time order: fixed-width UTC time, then the
// ID to break ties.
func timeKey(t time.Time, id string) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z") + "|" + id
}

// Service is a web service of the hub.
type Service struct{ codeName }

func serviceView(s store.Service) Service {
	return Service{orgView(store.Organization{ID: s.ID, Code: s.Code, Name: s.Name, CreatedAt: s.CreatedAt}).codeName}
}

// Entitlement lets an organization use a service.
type Entitlement struct {
	OrgID     string    `json:"org_id"`
	ServiceID string    `json:"service_id"`
	CreatedAt time.Time `json:"created_at"`
}

func entitlementView(e store.Entitlement) Entitlement {
	return Entitlement{OrgID: e.OrgID, ServiceID: e.ServiceID, CreatedAt: e.CreatedAt.UTC()}
}

// Client is a registered relying party (never its secret hash).
type Client struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name"`
	ServiceID              string   `json:"service_id"`
	HomeURL                string   `json:"home_url"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri"`
	GrantTypes             []string `json:"grant_types"`
	Public                 bool     `json:"public"`
	FirstParty             bool     `json:"first_party"`
	AccessTokenType        string   `json:"access_token_type"`
	// RefreshIDToken false: refresh answers carry no ID token (OpenID
	// Connect Core §12.2).
	RefreshIDToken bool `json:"refresh_id_token"`
	// AccessTokenSigningAlgorithm signs JWT access tokens: RS256 or ES256.
	AccessTokenSigningAlgorithm string    `json:"access_token_signing_algorithm"`
	CreatedAt                   time.Time `json:"created_at"`
	UpdatedAt                   time.Time `json:"updated_at"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func clientView(c store.Client) Client {
	return Client{ID: c.ID, Name: c.Name, ServiceID: c.ServiceID, HomeURL: c.HomeURL,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		BackchannelLogoutURI: c.BackchannelLogoutURI, GrantTypes: nonNil(c.GrantTypes), Public: c.Public,
		FirstParty: c.FirstParty, AccessTokenType: string(c.AccessTokenType),
		RefreshIDToken: !c.OmitRefreshIDToken, AccessTokenSigningAlgorithm: oidcstore.AccessAlgorithm(c),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

// ClientWithSecret is the answer to a client creation or secret rotation:
// the only time the secret is shown.
type ClientWithSecret struct {
	Client
	ClientSecret string `json:"client_secret,omitempty"`
}

// AuditEvent is one entry of the usage history.
type AuditEvent struct {
	ID        int64             `json:"id"`
	Time      time.Time         `json:"time"`
	Kind      string            `json:"kind"`
	ActorID   string            `json:"actor_id"`
	UserID    string            `json:"user_id"`
	OrgID     string            `json:"org_id"`
	ClientID  string            `json:"client_id"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
	Detail    map[string]string `json:"detail"`
}

func auditView(e store.AuditEvent) AuditEvent {
	d := e.Detail
	if d == nil {
		d = map[string]string{}
	}
	return AuditEvent{ID: e.ID, Time: e.Time.UTC(), Kind: e.Kind, ActorID: e.ActorID, UserID: e.UserID,
		OrgID: e.OrgID, ClientID: e.ClientID, IP: e.IP, UserAgent: e.UserAgent, Detail: d}
}
