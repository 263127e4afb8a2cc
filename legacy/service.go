package legacy

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// RegistrationTTL is how long an emailed pre-registration link works.
const RegistrationTTL = 24 * time.Hour

// TicketTTL is how long a proved login ID may be registered.
const TicketTTL = 30 * time.Minute

// Audit event kinds written by this package; each names the login ID in
// Detail["login_id"] and the service in Detail["service"].
const (
	AuditImport         = "legacy.import"
	AuditSigninFailure  = "legacy.signin.failure"
	AuditSigninSuccess  = "legacy.signin.success"
	AuditRegistration   = "legacy.registration.sent"
	AuditAccountCreated = "legacy.account.created"
	AuditLinked         = "legacy.linked"
	AuditUnlinked       = "legacy.unlinked"
)

// Errors the adapters turn into pages, exit codes and API answers.
var (
	// ErrBadCredentials: unknown login ID or wrong password (one answer).
	ErrBadCredentials = apperr.New(apperr.Unauthorized, "the login ID or the password is not correct")
	// ErrOnePerService: the person has a login ID of this service already.
	ErrOnePerService = apperr.New(apperr.Conflict, "this account is already linked to another login ID of the service")
	// ErrClosed: outside the window (see Phase).
	ErrClosed = apperr.New(apperr.Forbidden, "pre-registration is not open")
	// ErrLinkUnusable: the emailed link is unknown, expired or used.
	ErrLinkUnusable = apperr.New(apperr.NotFound, "this link cannot be used")
	// ErrAccountExists: the address has an account; confirm with it.
	ErrAccountExists = apperr.New(apperr.Conflict, "an account uses this address")
	// ErrNoAccount: the address has no account; set a password.
	ErrNoAccount = apperr.New(apperr.Conflict, "no account uses this address")
	// ErrSecondFactor: the account's second factor is required or wrong.
	ErrSecondFactor = apperr.New(apperr.Unauthorized, "the two-step verification code is not correct")
	// ErrBadTicket: the proof of the login ID is missing, forged or old.
	ErrBadTicket = apperr.New(apperr.Forbidden, "sign in with the login ID again")
)

// Store is the durable storage the package uses; store.Durable satisfies
// it.
type Store interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetUserByEmail(ctx context.Context, email string) (store.User, error)
	CreateUser(ctx context.Context, u store.User) error
	UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error)
	GetService(ctx context.Context, id string) (store.Service, error)
	GetServiceByCode(ctx context.Context, code string) (store.Service, error)
	ListServices(ctx context.Context) ([]store.Service, error)
	GetOrganizationByCode(ctx context.Context, code string) (store.Organization, error)
	GetLegacyLoginID(ctx context.Context, serviceID, loginID string) (store.LegacyLoginID, error)
	ListLegacyLinksByUser(ctx context.Context, userID string) ([]store.LegacyLink, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
	GetTOTP(ctx context.Context, userID string) (store.TOTPCredential, error)
	store.LegacyBulkStore
	InTx(ctx context.Context, fn func(tx store.Durable) error) error
}

// Hasher verifies legacy hashes and hashes new passwords
// (password.Hasher).
type Hasher interface {
	Verify(pw, encoded string) (ok, needsRehash bool, err error)
	DummyVerify(pw string)
	Hash(pw string) (string, error)
}

// Decision is a throttle's answer.
type Decision struct {
	Allowed bool
	Locked  bool
	RetryAt time.Time
}

// Throttle counts failed attempts per key and client IP (idp/throttle's
// Limiter, adapted).
type Throttle interface {
	Attempt(ctx context.Context, key, ip string) (Decision, error)
	Failed(ctx context.Context, key, ip string) error
	Succeed(ctx context.Context, key string) error
}

// Policy checks a new password (idp/pwpolicy.Policy).
type Policy interface {
	Check(password string, context ...string) error
}

// SecondFactor checks an existing account's second factor when it
// confirms a link (idp wires the two-step verification service). Check
// accepts a code at most once, as the sign-in does; m says who asks, for
// the person's history. nil means none is wired, and an account with a
// confirmed TOTP enrollment is then refused (never linked without its
// second factor).
type SecondFactor interface {
	Enrolled(ctx context.Context, userID string) (bool, error)
	Check(ctx context.Context, userID, code string, m Meta) (bool, error)
}

// Mailer queues the registration and reminder mail in the outbox of tx.
type Mailer interface {
	SendRegistration(ctx context.Context, tx store.Durable, m RegistrationMail) error
	SendReminder(ctx context.Context, tx store.Durable, m ReminderMail) error
}

// RegistrationMail is what the registration mail says.
type RegistrationMail struct {
	To, Name, Locale string
	Link             string
	LoginID, Service string
	Expires          time.Duration
}

// Deps are the Service's collaborators.
type Deps struct {
	Store     Store
	Hasher    Hasher
	Throttle  Throttle
	Policy    Policy
	Normalize func(pw string) string // pwpolicy.Normalize; nil = as typed
	Second    SecondFactor
	Mailer    Mailer
	Window    Window
	// FirstRole goes to the first person linked in an organization without
	// an administrator, LaterRole to the others (defaults administrator,
	// normal).
	FirstRole, LaterRole store.Role
	// ReminderDays, when above 0, is how many days before the window
	// ends the reminder mail goes out (SendReminders); ReminderLocale is
	// its language ("en", "ja", or "both": the Mailer writes both in one
	// mail).
	ReminderDays   int
	ReminderLocale string
	// TicketKey signs tickets (32+ random bytes; every replica the same).
	TicketKey []byte
	// BaseURL is the absolute base of emailed links, without a slash.
	BaseURL string
	Now     func() time.Time
	Rand    io.Reader
	Logger  *slog.Logger
}

// Service holds the migration's rules.
type Service struct{ d Deps }

// New returns the service; nil Now, Rand, Logger mean time.Now,
// crypto/rand, a discarding logger.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.FirstRole == "" {
		d.FirstRole = store.RoleAdministrator
	}
	if d.LaterRole == "" {
		d.LaterRole = store.RoleNormal
	}
	if d.Normalize == nil {
		d.Normalize = func(s string) string { return s }
	}
	return &Service{d: d}
}

// Window returns the configured window.
func (s *Service) Window() Window { return s.d.Window }

// Phase is where now falls in the window.
func (s *Service) Phase() Phase { return s.d.Window.Phase(s.d.Now()) }

// Phase is a stage of the migration.
type Phase int

// Phases, in order.
const (
	PhaseNone    Phase = iota // no migration configured
	PhaseBefore               // pre-registration not open yet
	PhaseOpen                 // pre-registration open
	PhaseClosed               // pre-registration over, before the cutover
	PhaseCutover              // legacy login IDs open nothing
)

// Window is the pre-registration window and the cutover.
type Window struct{ Start, End, Cutover time.Time }

// Phase returns the phase at t.
func (w Window) Phase(t time.Time) Phase {
	switch {
	case w.Start.IsZero():
		return PhaseNone
	case t.Before(w.Start):
		return PhaseBefore
	case t.Before(w.End):
		return PhaseOpen
	case t.Before(w.Cutover):
		return PhaseClosed
	default:
		return PhaseCutover
	}
}

func (s *Service) open() error {
	if s.Phase() != PhaseOpen {
		return ErrClosed
	}
	return nil
}

// service resolves a service code.
func (s *Service) service(ctx context.Context, code string) (store.Service, error) {
	v, err := s.d.Store.GetServiceByCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return v, apperr.Wrap(apperr.NotFound, "unknown service "+code, err)
	}
	return v, storeErr("get service", err)
}

// storeErr maps storage failures to apperr codes.
func storeErr(msg string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrUnavailable):
		return apperr.Wrap(apperr.Unavailable, msg, err)
	case errors.Is(err, store.ErrNotFound):
		return apperr.Wrap(apperr.NotFound, msg, err)
	default:
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return err
		}
		return apperr.Wrap(apperr.Internal, msg, err)
	}
}

// audit appends an event; detail names the login ID and service.
func (s *Service) audit(ctx context.Context, a interface {
	AppendAudit(context.Context, store.AuditEvent) (int64, error)
}, e store.AuditEvent) error {
	e.Time = s.d.Now()
	_, err := a.AppendAudit(ctx, e)
	return storeErr("audit "+e.Kind, err)
}

func detail(serviceCode, loginID string) map[string]string {
	return map[string]string{"service": serviceCode, "login_id": loginID}
}
