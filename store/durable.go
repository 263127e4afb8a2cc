package store

import (
	"context"
	"time"
)

// Role is a person's account type within one organization.
type Role string

// Account types, from most to least privileged.
const (
	RoleAdministrator Role = "administrator"
	RoleNormal        Role = "normal"
	RoleVisitor       Role = "visitor"
)

// Valid reports whether r is one of the three account types.
func (r Role) Valid() bool {
	return r == RoleAdministrator || r == RoleNormal || r == RoleVisitor
}

// User is one person. ID is stable and opaque (it is the OIDC `sub`).
type User struct {
	ID                string
	Email             string // as given; unique by FoldEmail
	EmailVerified     bool
	Name              string
	Locale            string // "" = negotiate from the browser
	PasswordHash      string // PHC string (argon2id) or bcrypt; "" = no password yet
	Disabled          bool
	PasswordChangedAt time.Time // tokens issued before this are invalid
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Organization is a customer company.
type Organization struct {
	ID        string
	Code      string // unique, human-readable, e.g. "NK0001"
	Name      string
	CreatedAt time.Time
}

// Membership: a user acts for an organization with an account type.
type Membership struct {
	UserID    string
	OrgID     string
	Role      Role
	CreatedAt time.Time
}

// Service is a web service of the hub (NK-SHIPS, NK-PASS...).
type Service struct {
	ID        string
	Code      string // unique, e.g. "nk-ships"
	Name      string
	CreatedAt time.Time
}

// Entitlement: an organization may use a service.
type Entitlement struct {
	OrgID     string
	ServiceID string
	CreatedAt time.Time
}

// AccessTokenType selects how a client's access tokens are minted.
type AccessTokenType string

// Access token types.
const (
	AccessTokenJWT    AccessTokenType = "jwt"
	AccessTokenOpaque AccessTokenType = "opaque"
)

// Client is a registered OAuth 2.0 / OIDC relying party.
type Client struct {
	ID                     string
	SecretHash             string // PHC string; "" for public clients
	Name                   string
	ServiceID              string // "" for clients not bound to a service
	HomeURL                string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string
	GrantTypes             []string // authorization_code, refresh_token, client_credentials
	Public                 bool
	FirstParty             bool
	AccessTokenType        AccessTokenType
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// LegacyLoginID is an organization-level login ID of one service, imported
// for the pre-registration window.
type LegacyLoginID struct {
	LoginID      string // unique per service
	ServiceID    string
	OrgID        string
	PasswordHash string // "" = pre-registrable only by invitation
	ContactEmail string // "" = none; where reminders go
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time // zero until an import changes it
}

// LegacyLink links a legacy login ID to a personal account. A user has at
// most one link per service (the database enforces it); a login ID may be
// linked to many users (everyone who shared it).
type LegacyLink struct {
	UserID    string
	ServiceID string
	LoginID   string
	LinkedAt  time.Time
}

// KeyState is a signing key's place in its lifecycle.
type KeyState string

// Key states: next (published, not signing), active (signing), retired
// (published, not signing, until its tokens have expired).
const (
	KeyNext    KeyState = "next"
	KeyActive  KeyState = "active"
	KeyRetired KeyState = "retired"
)

// SigningKey is a token signing key; the private key is sealed under the KEK.
type SigningKey struct {
	ID          string // kid
	Algorithm   string // RS256, ES256, EdDSA
	State       KeyState
	Sealed      []byte // sealed PKCS#8 private key
	CreatedAt   time.Time
	ActivatedAt time.Time // zero until active
	RetiredAt   time.Time // zero until retired
	RemoveAfter time.Time // zero until retired; unpublished after this
}

// KeyChange is what a key update closure returns: keys to insert or
// replace (by ID) and IDs to delete.
type KeyChange struct {
	Put    []SigningKey
	Delete []string
}

// ConsentGrant remembers the scopes a user granted a client.
type ConsentGrant struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TOTPCredential is a user's enrolled authenticator.
type TOTPCredential struct {
	UserID      string
	Sealed      []byte    // sealed secret
	ConfirmedAt time.Time // zero while enrollment is pending
	CreatedAt   time.Time
}

// RecoveryCode is one hashed single-use MFA recovery code.
type RecoveryCode struct {
	UserID string
	Hash   string
	UsedAt time.Time
}

// Invitation invites an email into an organization with an account type.
type Invitation struct {
	ID         string // hash of the emailed token
	OrgID      string
	Email      string
	Role       Role
	InvitedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt time.Time
}

// OneTimeTokenKind says what a one-time token is for.
type OneTimeTokenKind string

// One-time token kinds.
const (
	TokenPasswordReset OneTimeTokenKind = "password_reset"
	TokenVerifyEmail   OneTimeTokenKind = "verify_email"
)

// OneTimeToken is an emailed single-use link; only its hash is stored.
type OneTimeToken struct {
	Hash      string
	Kind      OneTimeTokenKind
	UserID    string
	Email     string // the address being verified (email change)
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// AuditEvent is one entry of the usage history. Events are never edited.
type AuditEvent struct {
	ID        int64 // assigned by the store, increasing
	Time      time.Time
	Kind      string // e.g. "signin.success", "password.changed"
	ActorID   string // who did it ("" = the system)
	UserID    string // whose history it belongs to
	OrgID     string
	ClientID  string
	IP        string
	UserAgent string
	Detail    map[string]string
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	UserID   string
	OrgID    string
	Kinds    []string
	Since    time.Time
	Until    time.Time
	BeforeID int64 // paging: only events with ID < BeforeID (0 = no bound)
	Limit    int   // 0 = 50
}

// OutboxMessage is a durable job: a mail to send or a back-channel logout
// to deliver. Written in the same transaction as the change that causes it.
type OutboxMessage struct {
	ID          int64  // assigned by the store
	Kind        string // "mail", "backchannel_logout"
	Payload     []byte // JSON, kind-specific
	CreatedAt   time.Time
	Attempts    int
	NextAttempt time.Time
	LeaseUntil  time.Time // a worker holds it until then
	SentAt      time.Time
	LastError   string
}

// UserStore keeps people.
type UserStore interface {
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error) // folded compare
	// UpdateUser loads the user, calls fn, and writes the result in one
	// transaction. ID and CreatedAt cannot change; a new email that folds to
	// another user's returns ErrAlreadyExists.
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (User, error)
	DeleteUser(ctx context.Context, id string) error
}

// OrgStore keeps organizations, memberships, services and entitlements.
type OrgStore interface {
	CreateOrganization(ctx context.Context, o Organization) error
	GetOrganization(ctx context.Context, id string) (Organization, error)
	GetOrganizationByCode(ctx context.Context, code string) (Organization, error)
	ListOrganizations(ctx context.Context) ([]Organization, error)

	PutMembership(ctx context.Context, m Membership) error // insert or change role
	DeleteMembership(ctx context.Context, userID, orgID string) error
	ListMembershipsByUser(ctx context.Context, userID string) ([]Membership, error)
	ListMembershipsByOrg(ctx context.Context, orgID string) ([]Membership, error)

	CreateService(ctx context.Context, s Service) error
	GetService(ctx context.Context, id string) (Service, error)
	GetServiceByCode(ctx context.Context, code string) (Service, error)
	ListServices(ctx context.Context) ([]Service, error)

	PutEntitlement(ctx context.Context, e Entitlement) error // idempotent
	DeleteEntitlement(ctx context.Context, orgID, serviceID string) error
	ListEntitlementsByOrg(ctx context.Context, orgID string) ([]Entitlement, error)
}

// ClientStore keeps relying parties.
type ClientStore interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	UpdateClient(ctx context.Context, id string, fn func(*Client) error) (Client, error)
	DeleteClient(ctx context.Context, id string) error
	ListClients(ctx context.Context) ([]Client, error)
}

// LegacyStore keeps legacy login IDs and their links.
type LegacyStore interface {
	CreateLegacyLoginID(ctx context.Context, l LegacyLoginID) error
	GetLegacyLoginID(ctx context.Context, serviceID, loginID string) (LegacyLoginID, error)
	// CreateLegacyLink fails with ErrAlreadyExists when the user already has
	// a link for that service (whichever login ID).
	CreateLegacyLink(ctx context.Context, l LegacyLink) error
	ListLegacyLinksByUser(ctx context.Context, userID string) ([]LegacyLink, error)
	LegacyBulkStore
}

// KeyStore keeps signing keys.
type KeyStore interface {
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateSigningKeys runs fn on all keys under an exclusive lock (one
	// writer across replicas) and applies the returned change atomically.
	UpdateSigningKeys(ctx context.Context, fn func(keys []SigningKey) (KeyChange, error)) error
}

// ConsentStore keeps remembered consent.
type ConsentStore interface {
	PutConsent(ctx context.Context, g ConsentGrant) error // insert or replace
	GetConsent(ctx context.Context, userID, clientID string) (ConsentGrant, error)
	ListConsentsByUser(ctx context.Context, userID string) ([]ConsentGrant, error)
	DeleteConsent(ctx context.Context, userID, clientID string) error
}

// MFAStore keeps TOTP credentials and recovery codes.
type MFAStore interface {
	PutTOTP(ctx context.Context, c TOTPCredential) error // insert or replace
	GetTOTP(ctx context.Context, userID string) (TOTPCredential, error)
	DeleteTOTP(ctx context.Context, userID string) error
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	ListRecoveryCodes(ctx context.Context, userID string) ([]RecoveryCode, error)
	// UseRecoveryCode marks one unused code used; ErrNotFound if none
	// matches, ErrAlreadyUsed if it was used.
	UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) error
}

// InvitationStore keeps invitations.
type InvitationStore interface {
	CreateInvitation(ctx context.Context, i Invitation) error
	GetInvitation(ctx context.Context, id string) (Invitation, error)
	ListInvitationsByOrg(ctx context.Context, orgID string) ([]Invitation, error)
	// AcceptInvitation marks it accepted once: ErrAlreadyUsed after that,
	// ErrNotFound when missing or expired at `at`.
	AcceptInvitation(ctx context.Context, id string, at time.Time) (Invitation, error)
	DeleteInvitation(ctx context.Context, id string) error
}

// OneTimeTokenStore keeps emailed single-use tokens.
type OneTimeTokenStore interface {
	CreateOneTimeToken(ctx context.Context, t OneTimeToken) error
	// ConsumeOneTimeToken marks the token used exactly once: ErrAlreadyUsed
	// after that, ErrNotFound when missing, of another kind, or expired at `at`.
	ConsumeOneTimeToken(ctx context.Context, hash string, kind OneTimeTokenKind, at time.Time) (OneTimeToken, error)
	// DeleteOneTimeTokens removes a user's unused tokens of a kind.
	DeleteOneTimeTokens(ctx context.Context, userID string, kind OneTimeTokenKind) error
}

// AuditStore appends and reads the usage history.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEvent) (int64, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PurgeAudit deletes events older than before and returns how many.
	PurgeAudit(ctx context.Context, before time.Time) (int64, error)
}

// OutboxStore is the durable job queue.
type OutboxStore interface {
	EnqueueOutbox(ctx context.Context, m OutboxMessage) (int64, error)
	// ClaimOutbox leases up to limit due messages of a kind (NextAttempt <=
	// now, unsent, lease expired) until now+lease. Two workers never claim
	// the same message while a lease holds.
	ClaimOutbox(ctx context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error)
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	// MarkOutboxFailed records an error, bumps Attempts and schedules the
	// next attempt (zero next = give up: the message stays unsent for good).
	MarkOutboxFailed(ctx context.Context, id int64, errText string, next time.Time) error
	GetOutbox(ctx context.Context, id int64) (OutboxMessage, error)
	// PurgeOutbox deletes messages sent before `before`, and given-up
	// messages (failed, never due again) created before it; pending
	// messages are kept whatever their age. It returns how many went.
	PurgeOutbox(ctx context.Context, before time.Time) (int64, error)
}

// Durable is everything a durable backend provides.
type Durable interface {
	UserStore
	OrgStore
	ClientStore
	LegacyStore
	KeyStore
	ConsentStore
	MFAStore
	InvitationStore
	OneTimeTokenStore
	AuditStore
	OutboxStore

	// InTx runs fn in one transaction: all of fn's writes apply or none.
	// Called on a transaction's Durable, it joins that transaction.
	InTx(ctx context.Context, fn func(tx Durable) error) error
	Ping(ctx context.Context) error
	Close() error
}
