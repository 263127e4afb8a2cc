package legacy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// maxPasswordBytes bounds the work a guess can cause (as sign-in).
const maxPasswordBytes = 1024

// Meta is who asks, for audit events and the throttle.
type Meta struct{ IP, UserAgent string }

// ThrottledError says when to try again.
type ThrottledError struct {
	Locked  bool
	RetryAt time.Time
}

func (e *ThrottledError) Error() string { return "legacy: too many attempts" }

// throttleKey is one budget per service and login ID, apart from the
// sign-in's per-email budgets.
func throttleKey(serviceID, loginID string) string { return "legacy:" + serviceID + ":" + loginID }

// Authenticate checks a legacy login ID's password while pre-registration
// is open and returns a Ticket for it. Unknown login IDs, login IDs
// without a hash and disabled ones get ErrBadCredentials after a dummy
// hash, exactly as a wrong password.
func (s *Service) Authenticate(ctx context.Context, serviceCode, loginID, pw string, m Meta) (Ticket, error) {
	if err := s.open(); err != nil {
		return Ticket{}, err
	}
	svc, err := s.service(ctx, serviceCode)
	if err != nil {
		return Ticket{}, err
	}
	key := throttleKey(svc.ID, loginID)
	dec, err := s.d.Throttle.Attempt(ctx, key, m.IP)
	if err != nil {
		return Ticket{}, storeErr("throttle", err)
	}
	if !dec.Allowed {
		return Ticket{}, &ThrottledError{Locked: dec.Locked, RetryAt: dec.RetryAt}
	}
	l, err := s.d.Store.GetLegacyLoginID(ctx, svc.ID, loginID)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Ticket{}, storeErr("get login ID", err)
	}
	valid := false
	switch {
	case len(pw) > maxPasswordBytes || pw == "":
		s.d.Hasher.DummyVerify(pw[:min(len(pw), maxPasswordBytes)])
	case known && l.PasswordHash != "" && !l.Disabled:
		valid, _, err = s.d.Hasher.Verify(pw, l.PasswordHash)
		if err != nil {
			s.d.Logger.ErrorContext(ctx, "legacy password hash unusable", "service", svc.Code, "login_id", loginID, "err", err)
			valid = false
		}
	default:
		s.d.Hasher.DummyVerify(pw)
	}
	if !valid {
		if err := s.d.Throttle.Failed(ctx, key, m.IP); err != nil {
			s.d.Logger.WarnContext(ctx, "throttle", "err", err)
		}
		if known {
			if err := s.audit(ctx, s.d.Store, store.AuditEvent{Kind: AuditSigninFailure, OrgID: l.OrgID,
				IP: m.IP, UserAgent: m.UserAgent, Detail: detail(svc.Code, loginID)}); err != nil {
				s.d.Logger.WarnContext(ctx, "audit", "err", err)
			}
		}
		return Ticket{}, ErrBadCredentials
	}
	if err := s.d.Throttle.Succeed(ctx, key); err != nil {
		s.d.Logger.WarnContext(ctx, "throttle reset", "err", err)
	}
	if err := s.audit(ctx, s.d.Store, store.AuditEvent{Kind: AuditSigninSuccess, OrgID: l.OrgID,
		IP: m.IP, UserAgent: m.UserAgent, Detail: detail(svc.Code, loginID)}); err != nil {
		return Ticket{}, err
	}
	return s.issueTicket(svc, loginID), nil
}

// Ticket proves that a browser knew a login ID's password recently.
type Ticket struct {
	ServiceID, ServiceCode, ServiceName, LoginID string
	Expires                                      time.Time
	Token                                        string // what the page carries
}

func (s *Service) sign(payload string) string {
	mac := hmac.New(sha256.New, s.d.TicketKey)
	mac.Write([]byte("hubid legacy ticket\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Service) issueTicket(svc store.Service, loginID string) Ticket {
	exp := s.d.Now().Add(TicketTTL).Truncate(time.Second)
	payload := base64.RawURLEncoding.EncodeToString([]byte(svc.ID + "\x00" + loginID + "\x00" + strconv.FormatInt(exp.Unix(), 10)))
	return Ticket{ServiceID: svc.ID, ServiceCode: svc.Code, ServiceName: svc.Name, LoginID: loginID, Expires: exp,
		Token: payload + "." + s.sign(payload)}
}

// OpenTicket checks a ticket's signature and age.
func (s *Service) OpenTicket(ctx context.Context, token string) (Ticket, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(s.d.TicketKey) == 0 || !hmac.Equal([]byte(sig), []byte(s.sign(payload))) {
		return Ticket{}, ErrBadTicket
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	parts := strings.Split(string(raw), "\x00")
	if err != nil || len(parts) != 3 {
		return Ticket{}, ErrBadTicket
	}
	sec, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !s.d.Now().Before(time.Unix(sec, 0)) {
		return Ticket{}, ErrBadTicket
	}
	svc, err := s.d.Store.GetService(ctx, parts[0])
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Ticket{}, ErrBadTicket
		}
		return Ticket{}, storeErr("get service", err)
	}
	return Ticket{ServiceID: svc.ID, ServiceCode: svc.Code, ServiceName: svc.Name, LoginID: parts[1],
		Expires: time.Unix(sec, 0), Token: token}, nil
}

// RegisterInput is the Register form.
type RegisterInput struct {
	Email, Name, Locale string
}

// ErrBadEmail: the address is not plausible.
var ErrBadEmail = apperr.New(apperr.Invalid, "enter a valid email address")

// Register mails a single-use link to the address to prove it, for the
// login ID of the ticket. When the address's account already has a login
// ID of the service, it is refused now (ErrOnePerService) rather than
// after the mail.
func (s *Service) Register(ctx context.Context, t Ticket, in RegisterInput, m Meta) error {
	if err := s.open(); err != nil {
		return err
	}
	in.Email, in.Name = strings.TrimSpace(in.Email), strings.TrimSpace(in.Name)
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > maxEmail {
		return ErrBadEmail
	}
	if len(in.Name) > maxOrgName {
		in.Name = in.Name[:maxOrgName]
	}
	if u, err := s.d.Store.GetUserByEmail(ctx, in.Email); err == nil {
		if other, err := s.linkedElsewhere(ctx, u.ID, t.ServiceID, t.LoginID); err != nil || other {
			if err != nil {
				return err
			}
			return ErrOnePerService
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return storeErr("get user", err)
	}
	l, err := s.d.Store.GetLegacyLoginID(ctx, t.ServiceID, t.LoginID)
	if err != nil {
		return storeErr("get login ID", err)
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.d.Rand, b); err != nil {
		return apperr.Wrap(apperr.Internal, "token", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.d.Now()
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.CreateLegacyRegistration(ctx, store.LegacyRegistration{
			Hash: hashToken(b), ServiceID: t.ServiceID, LoginID: t.LoginID, Email: in.Email, Name: in.Name,
			Locale: in.Locale, CreatedAt: now, ExpiresAt: now.Add(RegistrationTTL),
		}); err != nil {
			return err
		}
		if err := s.d.Mailer.SendRegistration(ctx, tx, RegistrationMail{
			To: in.Email, Name: in.Name, Locale: in.Locale, Link: s.d.BaseURL + "/preregister/confirm?token=" + token,
			LoginID: t.LoginID, Service: t.ServiceName, Expires: RegistrationTTL,
		}); err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{Kind: AuditRegistration, OrgID: l.OrgID, IP: m.IP, UserAgent: m.UserAgent,
			Detail: withEmail(detail(t.ServiceCode, t.LoginID), in.Email)})
	})
	return storeErr("register", err)
}

func withEmail(d map[string]string, email string) map[string]string {
	d["email"] = email
	return d
}

// linkedElsewhere reports whether the user has a login ID of the service
// other than loginID.
func (s *Service) linkedElsewhere(ctx context.Context, userID, serviceID, loginID string) (bool, error) {
	links, err := s.d.Store.ListLegacyLinksByUser(ctx, userID)
	if err != nil {
		return false, storeErr("list links", err)
	}
	for _, k := range links {
		if k.ServiceID == serviceID && k.LoginID != loginID {
			return true, nil
		}
	}
	return false, nil
}

func hashToken(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokenHash returns the stored hash of a link's token; ok is false when it
// cannot be one of ours.
func tokenHash(token string) (string, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != 32 {
		return "", false
	}
	return hashToken(b), true
}

// Pending is an emailed registration being completed.
type Pending struct {
	Registration store.LegacyRegistration
	ServiceCode  string
	ServiceName  string
	// Account is the existing account of the address (ID "" = none: the
	// person sets a password).
	Account store.User
	// Shared: other people are linked to the same login ID with this very
	// address (a shared mailbox).
	Shared bool
}

// Open checks an emailed link without using it.
func (s *Service) Open(ctx context.Context, token string) (Pending, error) {
	if err := s.open(); err != nil {
		return Pending{}, err
	}
	hash, ok := tokenHash(token)
	if !ok {
		return Pending{}, ErrLinkUnusable
	}
	g, err := s.d.Store.GetLegacyRegistration(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Pending{}, ErrLinkUnusable
	}
	if err != nil {
		return Pending{}, storeErr("get registration", err)
	}
	if !g.UsedAt.IsZero() || !s.d.Now().Before(g.ExpiresAt) {
		return Pending{}, ErrLinkUnusable
	}
	return s.pending(ctx, g)
}

func (s *Service) pending(ctx context.Context, g store.LegacyRegistration) (Pending, error) {
	p := Pending{Registration: g}
	svc, err := s.d.Store.GetService(ctx, g.ServiceID)
	if err != nil {
		return p, storeErr("get service", err)
	}
	p.ServiceCode, p.ServiceName = svc.Code, svc.Name
	u, err := s.d.Store.GetUserByEmail(ctx, g.Email)
	switch {
	case err == nil:
		p.Account = u
	case !errors.Is(err, store.ErrNotFound):
		return p, storeErr("get user", err)
	}
	return p, nil
}

// consume uses the link up inside tx.
func (s *Service) consume(ctx context.Context, tx store.Durable, token string) (store.LegacyRegistration, error) {
	hash, ok := tokenHash(token)
	if !ok {
		return store.LegacyRegistration{}, ErrLinkUnusable
	}
	g, err := tx.ConsumeLegacyRegistration(ctx, hash, s.d.Now())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyUsed) {
		return g, ErrLinkUnusable
	}
	return g, err
}

// CompleteNew creates the account of a new address with the password the
// person chose (Policy applies) and links the login ID.
func (s *Service) CompleteNew(ctx context.Context, token, pw string, m Meta) (store.User, error) {
	p, err := s.Open(ctx, token)
	if err != nil {
		return store.User{}, err
	}
	if p.Account.ID != "" {
		return store.User{}, ErrAccountExists
	}
	pw = s.d.Normalize(pw)
	if err := s.d.Policy.Check(pw, p.Registration.Email, p.Registration.Name); err != nil {
		return store.User{}, err // the page shows the refusal
	}
	hash, err := s.d.Hasher.Hash(pw)
	if err != nil {
		return store.User{}, apperr.Wrap(apperr.Internal, "hash password", err)
	}
	id, err := s.newID()
	if err != nil {
		return store.User{}, err
	}
	now := s.d.Now()
	u := store.User{ID: id, Email: p.Registration.Email, EmailVerified: true, Name: p.Registration.Name,
		Locale: p.Registration.Locale, PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		g, err := s.consume(ctx, tx, token)
		if err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return ErrAccountExists // created meanwhile
			}
			return err
		}
		l, err := tx.GetLegacyLoginID(ctx, g.ServiceID, g.LoginID)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, store.AuditEvent{Kind: AuditAccountCreated, ActorID: u.ID, UserID: u.ID, OrgID: l.OrgID,
			IP: m.IP, UserAgent: m.UserAgent, Detail: detail(p.ServiceCode, g.LoginID)}); err != nil {
			return err
		}
		return s.link(ctx, tx, u.ID, u.ID, p.ServiceCode, g, m)
	})
	if err != nil {
		return store.User{}, s.linkErr(err)
	}
	return u, nil
}

// CompleteExisting links the login ID to the address's existing account
// once its password (and, when enrolled, its second factor) is confirmed.
// Wrong passwords count against the account's sign-in budget (key = the
// folded email, as sign-in).
func (s *Service) CompleteExisting(ctx context.Context, token, pw, code string, m Meta) (store.User, error) {
	p, err := s.Open(ctx, token)
	if err != nil {
		return store.User{}, err
	}
	u := p.Account
	if u.ID == "" {
		return store.User{}, ErrNoAccount
	}
	key := store.FoldEmail(u.Email)
	dec, err := s.d.Throttle.Attempt(ctx, key, m.IP)
	if err != nil {
		return store.User{}, storeErr("throttle", err)
	}
	if !dec.Allowed {
		return store.User{}, &ThrottledError{Locked: dec.Locked, RetryAt: dec.RetryAt}
	}
	ok := false
	if len(pw) <= maxPasswordBytes && u.PasswordHash != "" && !u.Disabled {
		ok, _, err = s.d.Hasher.Verify(s.d.Normalize(pw), u.PasswordHash)
		ok = ok && err == nil
	} else {
		s.d.Hasher.DummyVerify(pw[:min(len(pw), maxPasswordBytes)])
	}
	if ok {
		ok, err = s.secondFactor(ctx, u.ID, code, m)
		if err != nil {
			return store.User{}, err
		}
		if !ok {
			_ = s.d.Throttle.Failed(ctx, key, m.IP)
			return store.User{}, ErrSecondFactor
		}
	} else {
		_ = s.d.Throttle.Failed(ctx, key, m.IP)
		return store.User{}, ErrBadCredentials
	}
	_ = s.d.Throttle.Succeed(ctx, key)
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		g, err := s.consume(ctx, tx, token)
		if err != nil {
			return err
		}
		// Following the emailed link proved the address.
		if !u.EmailVerified {
			if _, err := tx.UpdateUser(ctx, u.ID, func(x *store.User) error { x.EmailVerified = true; return nil }); err != nil {
				return err
			}
		}
		return s.link(ctx, tx, u.ID, u.ID, p.ServiceCode, g, m)
	})
	if err != nil {
		return store.User{}, s.linkErr(err)
	}
	return u, nil
}

// secondFactor checks the code when the account is enrolled.
func (s *Service) secondFactor(ctx context.Context, userID, code string, m Meta) (bool, error) {
	if s.d.Second == nil {
		// Nothing wired to check a code: an enrolled account is refused.
		c, err := s.d.Store.GetTOTP(ctx, userID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return true, nil
		case err != nil:
			return false, storeErr("get TOTP", err)
		}
		return c.ConfirmedAt.IsZero(), nil
	}
	enrolled, err := s.d.Second.Enrolled(ctx, userID)
	if err != nil {
		return false, storeErr("second factor", err)
	}
	if !enrolled {
		return true, nil
	}
	if code == "" {
		return false, nil
	}
	ok, err := s.d.Second.Check(ctx, userID, code, m)
	if err != nil {
		return false, storeErr("second factor", err)
	}
	return ok, nil
}

func (s *Service) linkErr(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, store.ErrAlreadyExists) {
		return ErrOnePerService
	}
	return storeErr("link", fmt.Errorf("legacy: %w", err))
}
