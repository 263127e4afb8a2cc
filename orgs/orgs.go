// Package orgs holds the rules of organizations: who may do what in an
// organization (the permission matrix, Allowed and Service.Authorize),
// memberships and account types, the rule that an organization always
// keeps an administrator, invitations, service applications, an
// organization's usage history, and the operator's management of
// organizations, users and services.
//
// The organization console, the admin API and the `hubid` command are thin
// adapters over Service: they parse, call, render. Every Service method
// authorizes its Actor itself (a person is checked against their
// membership of the organization; an Operator may do everything), writes
// an audit event naming the actor for every change, and runs its reads and
// writes in one transaction. Refusals are *apperr.Error values with codes
// an adapter can tell apart (apperr.Forbidden, apperr.LastAdministrator,
// apperr.InvitationExpired, ...).
//
// The last-administrator rule is enforced by the store
// (store.ErrLastAdministrator from SetMembershipRole and RemoveMembership,
// which serialize the changes of one organization), so that concurrent
// demotions can never leave an organization without an administrator.
//
// Mail (invitations, decisions on applications) is composed by a Mailer
// and queued through the durable outbox in the transaction of the change
// it describes.
package orgs

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// Tx is what the service reads and writes, in and out of a transaction;
// store.Durable satisfies it.
type Tx interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetUserByEmail(ctx context.Context, email string) (store.User, error)
	CreateUser(ctx context.Context, u store.User) error
	UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error)
	DeleteUser(ctx context.Context, id string) error
	ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, error)

	GetOrganization(ctx context.Context, id string) (store.Organization, error)
	GetOrganizationByCode(ctx context.Context, code string) (store.Organization, error)
	ListOrganizations(ctx context.Context) ([]store.Organization, error)
	CreateOrganization(ctx context.Context, o store.Organization) error
	UpdateOrganization(ctx context.Context, id string, fn func(*store.Organization) error) (store.Organization, error)
	DeleteOrganization(ctx context.Context, id string) error

	ListMembershipsByUser(ctx context.Context, userID string) ([]store.Membership, error)
	CreateMembership(ctx context.Context, m store.Membership) error
	SetMembershipRole(ctx context.Context, userID, orgID string, role store.Role) (store.Membership, error)
	RemoveMembership(ctx context.Context, userID, orgID string) (store.Membership, error)
	ListMembers(ctx context.Context, f store.MemberFilter) ([]store.Member, error)
	GetMember(ctx context.Context, userID, orgID string) (store.Member, error)

	GetService(ctx context.Context, id string) (store.Service, error)
	GetServiceByCode(ctx context.Context, code string) (store.Service, error)
	ListServices(ctx context.Context) ([]store.Service, error)
	CreateService(ctx context.Context, s store.Service) error
	UpdateService(ctx context.Context, id string, fn func(*store.Service) error) (store.Service, error)
	DeleteService(ctx context.Context, id string) error
	PutEntitlement(ctx context.Context, e store.Entitlement) error
	DeleteEntitlement(ctx context.Context, orgID, serviceID string) error
	ListEntitlementsByOrg(ctx context.Context, orgID string) ([]store.Entitlement, error)

	CreateInvitation(ctx context.Context, i store.Invitation) error
	GetInvitation(ctx context.Context, id string) (store.Invitation, error)
	GetInvitationByToken(ctx context.Context, tokenHash string) (store.Invitation, error)
	ListInvitationsByOrg(ctx context.Context, orgID string) ([]store.Invitation, error)
	UpdateInvitation(ctx context.Context, id string, fn func(*store.Invitation) error) (store.Invitation, error)
	AcceptInvitation(ctx context.Context, id, userID string, at time.Time) (store.Invitation, error)

	CreateServiceApplication(ctx context.Context, a store.ServiceApplication) error
	GetServiceApplication(ctx context.Context, id string) (store.ServiceApplication, error)
	ListServiceApplications(ctx context.Context, f store.ApplicationFilter) ([]store.ServiceApplication, error)
	UpdateServiceApplication(ctx context.Context, id string, fn func(*store.ServiceApplication) error) (store.ServiceApplication, error)

	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
	EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (int64, error)
}

// Store is the service's storage: Tx plus transactions (store.Durable).
type Store interface {
	Tx
	InTx(ctx context.Context, fn func(tx store.Durable) error) error
}

// Outbox is where a Mailer queues mail: the transaction of the change.
type Outbox interface {
	EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (int64, error)
}

// Mail kinds the service sends; Mail.Data is of the type named.
const (
	MailInvitation          = "org_invitation"           // InvitationMail
	MailApplicationApproved = "org_application_approved" // ApplicationMail
	MailApplicationRejected = "org_application_rejected" // ApplicationMail (Reason set)
)

// Mail is one message for a Mailer to compose and queue.
type Mail struct {
	Kind   string
	To     string
	Locale string // the recipient's language setting; "" = the default
	Data   any
}

// InvitationMail is the data of MailInvitation.
type InvitationMail struct {
	OrgName     string
	InviterName string
	Role        store.Role
	Link        string // absolute URL with the single-use token
	ExpiresDays int
}

// ApplicationMail is the data of MailApplicationApproved and
// MailApplicationRejected.
type ApplicationMail struct {
	Name        string // the applicant's name
	OrgName     string
	ServiceName string
	Reason      string // the operator's reason for a rejection
}

// Mailer composes a Mail and queues it in out, the transaction of the
// change it describes (idp/mail.OrgMailer in production).
type Mailer interface {
	QueueMail(ctx context.Context, out Outbox, m Mail) error
}

// PasswordPolicy checks a new password (idp/pwpolicy.Policy); context are
// the person's own words (email, name) a password must not be.
type PasswordPolicy interface {
	Check(password string, context ...string) error
}

// Hasher hashes a new password (password.Hasher).
type Hasher interface {
	Hash(password string) (string, error)
}

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// AcceptPath is the page an invitation link opens, with ?token=.
const AcceptPath = "/invitations/accept"

// Deps are the service's collaborators.
type Deps struct {
	Store  Store
	Mailer Mailer
	// Policy and Hasher apply to the password of an account created by
	// accepting an invitation.
	Policy PasswordPolicy
	Hasher Hasher
	// BaseURL is the absolute base of invitation links (the issuer),
	// without a trailing slash.
	BaseURL string
	Now     func() time.Time // nil: time.Now
	Rand    io.Reader        // nil: crypto/rand
	Logger  *slog.Logger     // nil: discard
}

// Service is the organizations domain. It is safe for concurrent use.
type Service struct {
	d Deps
}

// New returns the service; Store and Mailer are required.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Mailer == nil {
		return nil, errors.New("orgs: a store and a mailer are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	d.Rand = &lockedReader{r: d.Rand} // concurrent requests read it
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.BaseURL = strings.TrimRight(d.BaseURL, "/")
	return &Service{d: d}, nil
}

// lockedReader serializes reads of a reader that may not be safe for
// concurrent use (a test's deterministic source).
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// Actor is who asks: a person, by account ID, or an operator (the `hubid`
// command, the admin API's token or an admin client).
type Actor struct {
	UserID   string // the person; "" for an operator
	Operator string // the operator's name; "" for a person
}

// Person is a signed-in person acting.
func Person(userID string) Actor { return Actor{UserID: userID} }

// Operator is an operator acting; name says which ("cli", "admin-token",
// a client ID) and appears in the audit log.
func Operator(name string) Actor {
	if name == "" {
		name = "operator"
	}
	return Actor{Operator: name}
}

// IsOperator reports whether a is an operator.
func (a Actor) IsOperator() bool { return a.Operator != "" && a.UserID == "" }

// auditID is the ActorID of a's audit events: the person's account ID, or
// "operator:NAME".
func (a Actor) auditID() string {
	if a.IsOperator() {
		return "operator:" + a.Operator
	}
	return a.UserID
}

// idEncoding is lower-case unpadded base32, as the seed's record IDs.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random opaque record ID.
func (s *Service) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.d.Rand, b[:]); err != nil {
		return "", fmt.Errorf("orgs: new ID: %w", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// now is the clock, UTC, to the microsecond the stores keep.
func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Microsecond) }

// audit appends an administrative event to the usage history.
func (s *Service) audit(ctx context.Context, tx Tx, a Actor, kind, orgID, userID string, detail map[string]string) error {
	_, err := tx.AppendAudit(ctx, store.AuditEvent{Time: s.now(), Kind: kind, ActorID: a.auditID(),
		UserID: userID, OrgID: orgID, Detail: detail})
	if err != nil {
		return fmt.Errorf("orgs: audit %s: %w", kind, err)
	}
	return nil
}

// notFound turns a store.ErrNotFound into a NotFound error naming what,
// and passes other errors through.
func notFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.Wrap(apperr.NotFound, what+" not found", err)
	}
	return err
}

// invalid is a bad-input error.
func invalid(msg string) error { return apperr.New(apperr.Invalid, msg) }

// parseRole checks an account type given by an adapter.
func parseRole(r store.Role) (store.Role, error) {
	r = store.Role(strings.ToLower(strings.TrimSpace(string(r))))
	if !r.Valid() {
		return "", invalid("the account type must be administrator, normal or visitor")
	}
	return r, nil
}

// ParseRole parses an account type as typed ("administrator", "normal",
// "visitor", any case); apperr.Invalid otherwise.
func ParseRole(s string) (store.Role, error) { return parseRole(store.Role(s)) }
