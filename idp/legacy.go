package idp

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/legacyui"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

// buildLegacy wires the migration service and its pages. An existing
// account confirming a link passes its second factor through the
// two-step verification service (legacySecond), built before it.
func (s *Server) buildLegacy(limiter *throttle.Limiter, proxies []netip.Prefix) error {
	c := s.deps.Config
	key, err := hkdf.Key(sha256.New, s.deps.CryptoSecret, nil, "hubid legacy ticket", 32)
	if err != nil {
		return err
	}
	t := c.Migration.Times()
	s.legacy = legacy.New(legacy.Deps{
		Store: s.deps.Durable, Hasher: s.deps.Hasher, Throttle: legacyThrottle{limiter},
		Policy: pwpolicy.Policy{MinLength: c.Password.MinLength}, Normalize: pwpolicy.Normalize,
		Second: legacySecond{s.twoStep}, Mailer: legacyMailer{s.composer}, Window: legacy.Window{Start: t.Start, End: t.End, Cutover: t.Cutover},
		FirstRole: store.Role(c.Migration.FirstRole), LaterRole: store.Role(c.Migration.LaterRole),
		ReminderDays: c.Migration.ReminderDaysBeforeEnd, ReminderLocale: c.Migration.ReminderLanguage,
		TicketKey: key, BaseURL: c.Issuer, Now: s.deps.Now, Rand: s.deps.Rand, Logger: s.deps.Logger,
	})
	s.legacyUI = legacyui.New(legacyui.Deps{
		Service: s.legacy, Renderer: s.renderer,
		Printer:     func(r *http.Request) *i18n.Printer { return s.guard.Printer(r, nil) },
		HelpdeskURL: c.Helpdesk.URL, HelpdeskEmail: c.Helpdesk.Email, MinLength: c.Password.MinLength,
		Proxies: proxies, Logger: s.deps.Logger,
	})
	return nil
}

// Legacy is the migration service (for the admin API).
func (s *Server) Legacy() *legacy.Service { return s.legacy }

type legacyThrottle struct{ l *throttle.Limiter }

func (t legacyThrottle) Attempt(ctx context.Context, key, ip string) (legacy.Decision, error) {
	d, err := t.l.Attempt(ctx, key, ip)
	return legacy.Decision{Allowed: d.Allowed, Locked: d.Locked, RetryAt: d.RetryAt}, err
}
func (t legacyThrottle) Failed(ctx context.Context, key, ip string) error {
	return t.l.Failed(ctx, key, ip)
}
func (t legacyThrottle) Succeed(ctx context.Context, key string) error { return t.l.Succeed(ctx, key) }

// legacySecond is the two-step verification service as the migration's
// SecondFactor: a TOTP code (accepted once, as at sign-in) or a recovery
// code; a wrong one is refused and recorded in the person's history.
type legacySecond struct{ m *mfa.Service }

func (f legacySecond) Enrolled(ctx context.Context, userID string) (bool, error) {
	return f.m.Enrolled(ctx, userID)
}

func (f legacySecond) Check(ctx context.Context, userID, code string, m legacy.Meta) (bool, error) {
	_, err := f.m.VerifySignIn(ctx, userID, code, mfa.Meta{ActorID: userID, IP: m.IP, UserAgent: m.UserAgent})
	switch {
	case errors.Is(err, mfa.ErrWrongCode), errors.Is(err, mfa.ErrNotEnrolled):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

type legacyMailer struct{ c *mail.Composer }

func (m legacyMailer) SendRegistration(ctx context.Context, tx store.Durable, r legacy.RegistrationMail) error {
	msg, err := m.c.Compose(mail.KindLegacyRegister, language.Make(r.Locale), r.To, mail.LegacyRegisterData{
		Name: r.Name, Link: r.Link, ExpiresMinutes: int(r.Expires / time.Minute), LoginID: r.LoginID, Service: r.Service})
	if err != nil {
		return err
	}
	return mail.Enqueue(ctx, tx, msg)
}

// SendReminder queues the reminder in the configured language ("both":
// one mail, Japanese then English), with the window's end as the
// pre-registration pages show it in each language.
func (m legacyMailer) SendReminder(ctx context.Context, tx store.Durable, r legacy.ReminderMail) error {
	data := func(lang string) any {
		return mail.LegacyReminderData{LoginID: r.LoginID, Service: r.Service, Org: r.Org, Ends: legacyui.FormatTime(r.Ends, lang), Link: r.Link}
	}
	var msg mail.Message
	var err error
	if r.Locale == "both" {
		msg, err = m.c.ComposeBilingual(mail.KindLegacyReminder, []language.Tag{language.Japanese, language.English}, r.To, data)
	} else {
		msg, err = m.c.Compose(mail.KindLegacyReminder, language.Make(r.Locale), r.To, data(r.Locale))
	}
	if err != nil {
		return err
	}
	return mail.Enqueue(ctx, tx, msg)
}

// SendLegacyReminders runs the migration's reminder job once (see
// legacy.Service.SendReminders); Run calls it every ReminderInterval.
func (s *Server) SendLegacyReminders(ctx context.Context) (int, error) {
	n, err := s.legacy.SendReminders(ctx)
	if n > 0 {
		s.deps.Logger.InfoContext(ctx, "queued legacy reminders", "mails", n)
	}
	return n, err
}

// ReminderInterval is how often every replica looks for reminders due.
const ReminderInterval = 5 * time.Minute
