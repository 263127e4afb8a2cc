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
	// RequireMFA: members must use two-step verification (TOTP) to sign in.
	RequireMFA bool
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

// OrganizationSelection says whether a client gets one organization chosen
// for each sign-in (the `org` claim).
type OrganizationSelection string

// Organization selection modes: "" leaves it to the request (an org_hint
// selects one), "required" makes every sign-in select exactly one.
const (
	OrgSelectionOptional OrganizationSelection = ""
	OrgSelectionRequired OrganizationSelection = "required"
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
	OrganizationSelection  OrganizationSelection
	// OmitRefreshIDToken: the refresh grant answers without an ID token
	// (refresh_id_token: false; OpenID Connect Core §12.2). The zero value
	// keeps the default, an ID token on every refresh.
	OmitRefreshIDToken bool
	// AccessTokenSigningAlgorithm signs the client's JWT access tokens:
	// "" (RS256, the default) or "ES256". ID tokens stay RS256.
	AccessTokenSigningAlgorithm string
	CreatedAt                   time.Time
	UpdatedAt                   time.Time
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
// ID is stable; only the hash of the emailed token is stored (TokenHash),
// and a resend replaces it, so the old link stops working.
type Invitation struct {
	ID          string
	TokenHash   string // hash of the emailed token; unique
	OrgID       string
	Email       string
	Role        Role
	InvitedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	AcceptedAt  time.Time // zero until accepted
	AcceptedBy  string    // the account that accepted
	CancelledAt time.Time // zero unless cancelled
}

// ApplicationStatus is where a service application stands.
type ApplicationStatus string

// Application statuses.
const (
	ApplicationPending  ApplicationStatus = "pending"
	ApplicationApproved ApplicationStatus = "approved"
	ApplicationRejected ApplicationStatus = "rejected"
)

// ServiceApplication is an organization's request to use a service it is
// not entitled to; an operator approves or rejects it.
type ServiceApplication struct {
	ID          string
	OrgID       string
	ServiceID   string
	ApplicantID string // the administrator who applied
	Note        string // the applicant's words
	Status      ApplicationStatus
	Reason      string // the operator's reason for a rejection
	DecidedBy   string
	CreatedAt   time.Time
	DecidedAt   time.Time // zero while pending
}

// ApplicationFilter selects service applications, newest first.
type ApplicationFilter struct {
	OrgID  string            // "" = every organization
	Status ApplicationStatus // "" = every status
}

// MemberFilter selects an organization's members, ordered by folded email.
type MemberFilter struct {
	OrgID string
	// Query, when set, keeps members whose name or email contains it
	// (case-insensitive; for non-ASCII names, exact case).
	Query string
	// After is the folded email of the last member of the previous page
	// ("" = from the start).
	After string
	Limit int // 0 = 50
}

// Member is a membership with what a members list shows about the person.
type Member struct {
	Membership
	User User
	// MFA is true when the person has a confirmed TOTP authenticator.
	MFA bool
	// LastSignIn is the time of the person's latest "signin.success" audit
	// event (zero when none is kept: never, or purged by retention).
	LastSignIn time.Time
}

// UserFilter selects users, ordered by folded email.
type UserFilter struct {
	Query string // substring of name or email, as MemberFilter.Query
	After string // folded email of the last user of the previous page
	Limit int    // 0 = 50
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
	UserID string
	OrgID  string
	Kinds  []string
	Since  time.Time
	Until  time.Time
	// Involving, when set, keeps events whose UserID or ActorID is it.
	Involving string
	// ActorID, when set, keeps events whose ActorID is it (who did it).
	ActorID string
	// MemberKinds, with OrgID, also selects the events of these kinds that
	// belong to no organization (OrgID "") of people who are members of
	// OrgID now: their sign-ins, in an organization's history.
	MemberKinds []string
	BeforeID    int64 // paging: only events with ID < BeforeID (0 = no bound)
	Limit       int   // 0 = 50
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
	// ListUsers pages through users (see UserFilter).
	ListUsers(ctx context.Context, f UserFilter) ([]User, error)
}

// OrgStore keeps organizations, memberships, services and entitlements.
type OrgStore interface {
	CreateOrganization(ctx context.Context, o Organization) error
	GetOrganization(ctx context.Context, id string) (Organization, error)
	GetOrganizationByCode(ctx context.Context, code string) (Organization, error)
	ListOrganizations(ctx context.Context) ([]Organization, error)
	// UpdateOrganization locks the organization, calls fn and writes the
	// result (ID and CreatedAt cannot change; a taken code is
	// ErrAlreadyExists). DeleteOrganization deletes it with its
	// memberships, entitlements, invitations and applications.
	UpdateOrganization(ctx context.Context, id string, fn func(*Organization) error) (Organization, error)
	DeleteOrganization(ctx context.Context, id string) error

	PutMembership(ctx context.Context, m Membership) error // insert or change role
	DeleteMembership(ctx context.Context, userID, orgID string) error
	ListMembershipsByUser(ctx context.Context, userID string) ([]Membership, error)
	ListMembershipsByOrg(ctx context.Context, orgID string) ([]Membership, error)
	// CreateMembership inserts a membership; ErrAlreadyExists when the user
	// is a member already, ErrNotFound when the user or organization does
	// not exist.
	CreateMembership(ctx context.Context, m Membership) error
	// SetMembershipRole changes a member's role and returns the membership
	// as it was; RemoveMembership deletes it and returns it. Both refuse
	// with ErrLastAdministrator, changing nothing, when the organization
	// would be left without an administrator, and return ErrNotFound when
	// there is no such membership. Changes to one organization's
	// memberships through them are serialized (a lock on the organization's
	// row), so concurrent demotions can never remove every administrator.
	SetMembershipRole(ctx context.Context, userID, orgID string, role Role) (Membership, error)
	RemoveMembership(ctx context.Context, userID, orgID string) (Membership, error)
	// ListMembers pages through an organization's members (see
	// MemberFilter); GetMember returns one.
	ListMembers(ctx context.Context, f MemberFilter) ([]Member, error)
	GetMember(ctx context.Context, userID, orgID string) (Member, error)

	CreateService(ctx context.Context, s Service) error
	GetService(ctx context.Context, id string) (Service, error)
	GetServiceByCode(ctx context.Context, code string) (Service, error)
	ListServices(ctx context.Context) ([]Service, error)
	// UpdateService and DeleteService are UpdateOrganization and
	// DeleteOrganization for services (deleting one deletes its
	// entitlements, legacy login IDs and applications).
	UpdateService(ctx context.Context, id string, fn func(*Service) error) (Service, error)
	DeleteService(ctx context.Context, id string) error

	PutEntitlement(ctx context.Context, e Entitlement) error // idempotent
	DeleteEntitlement(ctx context.Context, orgID, serviceID string) error
	ListEntitlementsByOrg(ctx context.Context, orgID string) ([]Entitlement, error)
	// ListEntitledMemberships returns, in one read, userID's memberships
	// in organizations entitled to serviceID, each with its organization
	// (two-step policy included), by organization code: what a token's
	// organization claims and the refresh grant's two-step check need.
	ListEntitledMemberships(ctx context.Context, userID, serviceID string) ([]EntitledMembership, error)
}

// EntitledMembership is a membership in an organization entitled to a
// service, with the organization.
type EntitledMembership struct {
	Organization Organization
	Role         Role
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
	// SetOrganizationRequireMFA sets an organization's two-step policy;
	// ErrNotFound when there is no such organization.
	SetOrganizationRequireMFA(ctx context.Context, orgID string, on bool) error
}

// InvitationStore keeps invitations.
type InvitationStore interface {
	// CreateInvitation fails with ErrAlreadyExists when the ID or the token
	// hash is taken, ErrNotFound when the organization does not exist.
	CreateInvitation(ctx context.Context, i Invitation) error
	GetInvitation(ctx context.Context, id string) (Invitation, error)
	GetInvitationByToken(ctx context.Context, tokenHash string) (Invitation, error)
	ListInvitationsByOrg(ctx context.Context, orgID string) ([]Invitation, error)
	// UpdateInvitation locks the invitation, calls fn, and writes the
	// result in one transaction: of concurrent updates each sees the one
	// before. ID, OrgID and CreatedAt cannot change.
	UpdateInvitation(ctx context.Context, id string, fn func(*Invitation) error) (Invitation, error)
	// AcceptInvitation marks it accepted by userID once: ErrAlreadyUsed
	// after that, ErrRevoked when cancelled, ErrNotFound when missing or
	// expired at `at`.
	AcceptInvitation(ctx context.Context, id, userID string, at time.Time) (Invitation, error)
	DeleteInvitation(ctx context.Context, id string) error
}

// ApplicationStore keeps service applications.
type ApplicationStore interface {
	// CreateServiceApplication fails with ErrAlreadyExists when the ID is
	// taken or the organization has a pending application for the service,
	// ErrNotFound when the organization or service does not exist.
	CreateServiceApplication(ctx context.Context, a ServiceApplication) error
	GetServiceApplication(ctx context.Context, id string) (ServiceApplication, error)
	ListServiceApplications(ctx context.Context, f ApplicationFilter) ([]ServiceApplication, error)
	// UpdateServiceApplication locks the application, calls fn, and writes
	// the result in one transaction. ID, OrgID, ServiceID and CreatedAt
	// cannot change.
	UpdateServiceApplication(ctx context.Context, id string, fn func(*ServiceApplication) error) (ServiceApplication, error)
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

// AuditStore appends and reads the usage history. AppendAudit fills an
// event's empty IP and UserAgent from the context's request meta
// (WithRequestMeta), so every write made for a request records who sent
// it.
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
	// OutboxBacklog reports, per kind that has any, the messages not yet
	// sent: those still to be tried (and the oldest one's CreatedAt) and
	// those given up. Kinds with no unsent message are absent.
	OutboxBacklog(ctx context.Context) ([]OutboxBacklog, error)
}

// OutboxBacklog is one kind's unsent outbox messages.
type OutboxBacklog struct {
	Kind    string
	Pending int64     // unsent, still to be tried
	Oldest  time.Time // CreatedAt of the oldest pending message (zero if none)
	GivenUp int64     // unsent, never tried again (kept until PurgeOutbox)
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
	ApplicationStore
	OneTimeTokenStore
	AuditStore
	OutboxStore

	// InTx runs fn in one transaction: all of fn's writes apply or none.
	// Called on a transaction's Durable, it joins that transaction.
	InTx(ctx context.Context, fn func(tx Durable) error) error
	Ping(ctx context.Context) error
	Close() error
}
