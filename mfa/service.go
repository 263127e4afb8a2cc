package mfa

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// The rules of two-step verification, held by Service: the sign-in pages,
// the account pages, the hub console and the hubid command are adapters
// over it.
const (
	// SetupWindow is how long a secret stays pending before it is
	// confirmed.
	SetupWindow = 15 * time.Minute
	// SignInWindow is how long a half-finished sign-in (password proven,
	// code not yet) stays usable.
	SignInWindow = 5 * time.Minute
	// RecentSignIn is how recent the sign-in of a session must be to set
	// up two-step verification without typing the password again.
	RecentSignIn = 10 * time.Minute
	// RecoveryCodeCount recovery codes are issued at activation.
	RecoveryCodeCount = 10
	// FewCodesLeft: the account page warns at this many codes or fewer.
	FewCodesLeft = 2
	// QRSize is the side of the enrollment QR code, in pixels.
	QRSize = 240
)

// Authentication methods (RFC 8176 values) of the second step, added to
// "pwd" by the sign-in.
var (
	// AMRTOTP: a TOTP code from an authenticator app.
	AMRTOTP = []string{"otp"}
	// AMRRecovery: a single-use recovery code: "otp" (a one-time code
	// satisfied the second step) and "kba" (a secret the person kept,
	// not a device), so a client can tell the two apart.
	AMRRecovery = []string{"otp", "kba"}
)

// Audit event kinds.
const (
	KindSetupStarted     = "mfa.setup.started"        // a secret was generated
	KindSetupVerified    = "mfa.setup.verified"       // its first code was right
	KindActivated        = "mfa.enabled"              // activated: stored, recovery codes issued
	KindDisabled         = "mfa.disabled"             // turned off by the person
	KindReset            = "mfa.reset"                // removed by an administrator or an operator (detail "by")
	KindCleared          = "mfa.cleared"              // removed by a password reset (idp/recovery)
	KindCodeFailed       = "mfa.code.failed"          // a wrong or replayed code
	KindRecoveryUsed     = "mfa.recovery.used"        // a recovery code signed in (detail "left")
	KindCodesRegenerated = "mfa.recovery.regenerated" // new recovery codes; old ones dead
	KindSetupSkipped     = "mfa.setup.skipped"        // "Not now" on the offered setup
	KindOrgRequired      = "org.mfa.required"         // organization policy turned on
	KindOrgOptional      = "org.mfa.optional"         // organization policy turned off
)

// Errors the adapters tell apart (apperr codes carry the HTTP status).
var (
	// ErrWrongCode: the code is wrong, replayed or expired. It counts as a
	// failed sign-in attempt.
	ErrWrongCode = apperr.New(apperr.Unauthorized, "wrong two-step verification code")
	// ErrNotEnrolled: the person has no authenticator.
	ErrNotEnrolled = apperr.New(apperr.NotFound, "two-step verification is not set up")
	// ErrSetupExpired: the pending secret is gone or was never verified.
	ErrSetupExpired = apperr.New(apperr.Invalid, "two-step setup expired or not verified")
	// ErrNotAdministrator: the actor does not administer the organization
	// (or the member is not in it).
	ErrNotAdministrator = apperr.New(apperr.Forbidden, "not an administrator of the organization")
)

// Store is the durable storage the service uses; store.Durable satisfies
// it, and every write goes through InTx with its audit event.
type Store interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetTOTP(ctx context.Context, userID string) (store.TOTPCredential, error)
	ListRecoveryCodes(ctx context.Context, userID string) ([]store.RecoveryCode, error)
	UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) error
	ListMembershipsByUser(ctx context.Context, userID string) ([]store.Membership, error)
	GetOrganization(ctx context.Context, id string) (store.Organization, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
	InTx(ctx context.Context, fn func(tx store.Durable) error) error
}

// Steps records each account's last used TOTP step in the ephemeral
// store (shared by every replica): store.Ephemeral satisfies it.
type Steps interface {
	UseTOTPStep(ctx context.Context, userID string, step int64, expiresAt time.Time) error
}

// Sealer seals secrets at rest under the KEK (seal.Keyring satisfies it).
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(blob, aad []byte) ([]byte, error)
}

// Notifier queues, inside tx, the mail telling u that two-step
// verification was removed from the account.
type Notifier func(ctx context.Context, tx store.Durable, u store.User) error

// Config is the service's collaborators. IssuerName names the account in
// authenticator apps ("<IssuerName>:<email>"); Now, Rand default to the
// real clock and crypto/rand.
type Config struct {
	IssuerName string
	Store      Store
	Steps      Steps
	Sealer     Sealer
	Notify     Notifier
	Now        func() time.Time
	Rand       io.Reader
}

// Service holds the rules of two-step verification.
type Service struct{ c Config }

// NewService returns the service; Store, Steps and Sealer are required.
func NewService(c Config) (*Service, error) {
	if c.Store == nil || c.Steps == nil || c.Sealer == nil {
		return nil, errors.New("mfa: Store, Steps and Sealer are required")
	}
	if c.IssuerName == "" {
		c.IssuerName = "Customer Hub"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return &Service{c: c}, nil
}

// Meta says who acts and from where, for the usage history. ActorID ""
// with Operator set is the hubid command.
type Meta struct {
	ActorID   string
	Operator  bool
	OrgID     string
	ClientID  string
	IP        string
	UserAgent string
}

func (s *Service) event(kind, userID string, m Meta, detail map[string]string) store.AuditEvent {
	return store.AuditEvent{Time: s.c.Now(), Kind: kind, ActorID: m.ActorID, UserID: userID, OrgID: m.OrgID,
		ClientID: m.ClientID, IP: m.IP, UserAgent: m.UserAgent, Detail: detail}
}

func (s *Service) audit(ctx context.Context, a interface {
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
}, kind, userID string, m Meta, detail map[string]string) error {
	if _, err := a.AppendAudit(ctx, s.event(kind, userID, m, detail)); err != nil {
		return fmt.Errorf("mfa: audit %s: %w", kind, err)
	}
	return nil
}

func aad(userID string) []byte { return []byte("totp:" + userID) }

// Status is what the account page shows.
type Status struct {
	Enabled   bool
	Since     time.Time // when it was activated
	CodesLeft int       // unused recovery codes
}

// FewCodes reports whether the page should warn about recovery codes.
func (st Status) FewCodes() bool { return st.Enabled && st.CodesLeft <= FewCodesLeft }

// Status reports a person's two-step verification state.
func (s *Service) Status(ctx context.Context, userID string) (Status, error) {
	c, err := s.c.Store.GetTOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.ConfirmedAt.IsZero()) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("mfa: status: %w", err)
	}
	codes, err := s.c.Store.ListRecoveryCodes(ctx, userID)
	if err != nil {
		return Status{}, fmt.Errorf("mfa: status: %w", err)
	}
	st := Status{Enabled: true, Since: c.ConfirmedAt}
	for _, rc := range codes {
		if rc.UsedAt.IsZero() {
			st.CodesLeft++
		}
	}
	return st, nil
}

// Enrollment is a secret being set up: what the setup page shows, and
// the sealed secret the caller keeps in the ephemeral store until Until.
type Enrollment struct {
	Secret string // base32, for manual entry (see GroupedSecret)
	URL    string // otpauth://totp/<issuer>:<email>?secret=…&issuer=…
	QRPNG  []byte
	Sealed []byte
	Until  time.Time
}

// GroupedSecret is the secret in groups of four for typing by hand.
func (e Enrollment) GroupedSecret() string {
	var b []byte
	for i := 0; i < len(e.Secret); i++ {
		if i > 0 && i%4 == 0 {
			b = append(b, ' ')
		}
		b = append(b, e.Secret[i])
	}
	return string(b)
}

// BeginSetup generates a new secret for u (160 bits, SHA1, 6 digits, 30 s).
// Nothing durable changes: the enrollment is pending until Activate.
func (s *Service) BeginSetup(ctx context.Context, u store.User, m Meta) (Enrollment, error) {
	secret, url, err := Generate(s.c.IssuerName, u.Email, s.c.Rand)
	if err != nil {
		return Enrollment{}, err
	}
	sealed, err := s.c.Sealer.Seal([]byte(secret), aad(u.ID))
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: seal secret: %w", err)
	}
	e, err := s.enrollment(u, secret, url)
	if err != nil {
		return Enrollment{}, err
	}
	e.Sealed, e.Until = sealed, s.c.Now().Add(SetupWindow)
	return e, s.audit(ctx, s.c.Store, KindSetupStarted, u.ID, m, nil)
}

// Pending rebuilds the enrollment of a sealed pending secret (to show the
// page again); Until is left to the caller, which stored it.
func (s *Service) Pending(u store.User, sealed []byte) (Enrollment, error) {
	secret, err := s.c.Sealer.Open(sealed, aad(u.ID))
	if err != nil {
		return Enrollment{}, apperr.Wrap(apperr.Invalid, "pending two-step secret unusable", err)
	}
	e, err := s.enrollment(u, string(secret), "")
	e.Sealed = sealed
	return e, err
}

func (s *Service) enrollment(u store.User, secret, url string) (Enrollment, error) {
	if url == "" {
		url = otpauthURL(s.c.IssuerName, u.Email, secret)
	}
	png, err := QRPNG(url, QRSize)
	if err != nil {
		return Enrollment{}, err
	}
	return Enrollment{Secret: secret, URL: url, QRPNG: png}, nil
}

// stepExpiry is when a used step can no longer be accepted by anyone
// (its code leaves the skew window), so its record may go.
func stepExpiry(step int64) time.Time { return time.Unix((step+Skew+2)*Period, 0) }

// useCode accepts a TOTP code of secret at most once across every
// replica: Verify as a pure function, then the matched step made the
// account's last used step in one atomic compare-and-set in the ephemeral
// store (Redis script or the memory store's lock). A replay, here or on
// another replica, finds its step recorded; a code of an earlier step
// than the last accepted one (seen over the person's shoulder) is
// refused as well.
func (s *Service) useCode(ctx context.Context, userID, secret, code string) error {
	step, ok := Verify(secret, code, s.c.Now(), 0)
	if !ok {
		return ErrWrongCode
	}
	err := s.c.Steps.UseTOTPStep(ctx, userID, step, stepExpiry(step))
	if errors.Is(err, store.ErrAlreadyUsed) {
		return ErrWrongCode
	}
	if err != nil {
		return fmt.Errorf("mfa: record TOTP step: %w", err)
	}
	return nil
}

// VerifySetup checks a code of the pending secret ("Verify"). A wrong
// code is audited and returns ErrWrongCode.
func (s *Service) VerifySetup(ctx context.Context, u store.User, sealed []byte, code string, m Meta) error {
	secret, err := s.c.Sealer.Open(sealed, aad(u.ID))
	if err != nil {
		return ErrSetupExpired
	}
	if err := s.useCode(ctx, u.ID, string(secret), code); err != nil {
		if errors.Is(err, ErrWrongCode) {
			s.failed(ctx, u.ID, m, "setup")
		}
		return err
	}
	return s.audit(ctx, s.c.Store, KindSetupVerified, u.ID, m, nil)
}

func (s *Service) failed(ctx context.Context, userID string, m Meta, where string) {
	// Best effort: the refusal stands whether or not it is recorded.
	_ = s.audit(ctx, s.c.Store, KindCodeFailed, userID, m, map[string]string{"step": where})
}

// Activate stores a verified pending secret (sealed under the KEK, bound
// to the user), replaces any earlier authenticator and recovery codes,
// and returns the 10 new recovery codes, shown once.
func (s *Service) Activate(ctx context.Context, u store.User, sealed []byte, verified bool, m Meta) ([]string, error) {
	if !verified {
		return nil, ErrSetupExpired
	}
	if _, err := s.c.Sealer.Open(sealed, aad(u.ID)); err != nil {
		return nil, ErrSetupExpired
	}
	codes, hashes, err := s.newCodes()
	if err != nil {
		return nil, err
	}
	now := s.c.Now()
	err = s.c.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.PutTOTP(ctx, store.TOTPCredential{UserID: u.ID, Sealed: sealed, ConfirmedAt: now, CreatedAt: now}); err != nil {
			return fmt.Errorf("mfa: store authenticator: %w", err)
		}
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return fmt.Errorf("mfa: store recovery codes: %w", err)
		}
		return s.audit(ctx, tx, KindActivated, u.ID, m, nil)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

func (s *Service) newCodes() (codes, hashes []string, err error) {
	codes, err = NewRecoveryCodes(RecoveryCodeCount, s.c.Rand)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range codes {
		hashes = append(hashes, HashRecoveryCode(c))
	}
	return codes, hashes, nil
}

// RegenerateCodes replaces the recovery codes (the old ones stop working)
// and returns the new ones, shown once.
func (s *Service) RegenerateCodes(ctx context.Context, u store.User, m Meta) ([]string, error) {
	if st, err := s.Status(ctx, u.ID); err != nil {
		return nil, err
	} else if !st.Enabled {
		return nil, ErrNotEnrolled
	}
	codes, hashes, err := s.newCodes()
	if err != nil {
		return nil, err
	}
	err = s.c.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return fmt.Errorf("mfa: store recovery codes: %w", err)
		}
		return s.audit(ctx, tx, KindCodesRegenerated, u.ID, m, nil)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

func (s *Service) secret(ctx context.Context, userID string) (string, error) {
	c, err := s.c.Store.GetTOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.ConfirmedAt.IsZero()) {
		return "", ErrNotEnrolled
	}
	if err != nil {
		return "", fmt.Errorf("mfa: load authenticator: %w", err)
	}
	b, err := s.c.Sealer.Open(c.Sealed, aad(userID))
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, "open TOTP secret", err)
	}
	return string(b), nil
}

// VerifySignIn checks the second step of a sign-in: a TOTP code (each
// step accepted once across replicas) or an unused recovery code (used up
// atomically). It returns the RFC 8176 methods to add to "pwd". A wrong
// code is audited and returns ErrWrongCode; the caller counts it against
// the account's sign-in throttle, the same budget as wrong passwords.
func (s *Service) VerifySignIn(ctx context.Context, userID, code string, m Meta) ([]string, error) {
	secret, err := s.secret(ctx, userID)
	if err != nil {
		return nil, err
	}
	if LooksLikeTOTP(code) {
		if err := s.useCode(ctx, userID, secret, code); err != nil {
			if errors.Is(err, ErrWrongCode) {
				s.failed(ctx, userID, m, "signin")
			}
			return nil, err
		}
		return AMRTOTP, nil
	}
	norm := NormalizeRecoveryCode(code)
	if len(norm) != 12 || len(code) > 64 {
		s.failed(ctx, userID, m, "signin")
		return nil, ErrWrongCode
	}
	err = s.c.Store.UseRecoveryCode(ctx, userID, HashRecoveryCode(norm), s.c.Now())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyUsed) {
		s.failed(ctx, userID, m, "signin-recovery")
		return nil, ErrWrongCode
	}
	if err != nil {
		return nil, fmt.Errorf("mfa: use recovery code: %w", err)
	}
	st, err := s.Status(ctx, userID)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, s.c.Store, KindRecoveryUsed, userID, m, map[string]string{"left": strconv.Itoa(st.CodesLeft)}); err != nil {
		return nil, err
	}
	return AMRRecovery, nil
}

// Disable turns two-step verification off at the person's request. The
// caller has checked the password; the code must be a current TOTP code.
func (s *Service) Disable(ctx context.Context, u store.User, code string, m Meta) error {
	secret, err := s.secret(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := s.useCode(ctx, u.ID, secret, code); err != nil {
		if errors.Is(err, ErrWrongCode) {
			s.failed(ctx, u.ID, m, "disable")
		}
		return err
	}
	return s.c.Store.InTx(ctx, func(tx store.Durable) error {
		if _, err := Remove(ctx, tx, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, KindDisabled, u.ID, m, nil)
	})
}

// Remover is what Remove needs of a transaction.
type Remover interface {
	DeleteTOTP(ctx context.Context, userID string) error
	ListRecoveryCodes(ctx context.Context, userID string) ([]store.RecoveryCode, error)
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error
}

// Remove deletes the authenticator and the recovery codes inside tx and
// reports whether there was either (a password reset calls it in its own
// transaction; the service's resets and turning off use it too).
func Remove(ctx context.Context, tx Remover, userID string) (bool, error) {
	had := true
	if err := tx.DeleteTOTP(ctx, userID); errors.Is(err, store.ErrNotFound) {
		had = false
	} else if err != nil {
		return false, fmt.Errorf("mfa: delete authenticator: %w", err)
	}
	codes, err := tx.ListRecoveryCodes(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("mfa: list recovery codes: %w", err)
	}
	if err := tx.ReplaceRecoveryCodes(ctx, userID, nil); err != nil {
		return false, fmt.Errorf("mfa: delete recovery codes: %w", err)
	}
	return had || len(codes) > 0, nil
}
