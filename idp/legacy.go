package idp

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
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
	"github.com/customerhub/hubid/store"
)

// buildLegacy wires the migration service and its pages. The second
// factor of existing accounts is not wired yet (legacy.Deps.Second nil):
// an account with a confirmed TOTP enrollment is then refused a link.
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
		Mailer: legacyMailer{s.composer}, Window: legacy.Window{Start: t.Start, End: t.End, Cutover: t.Cutover},
		FirstRole: store.Role(c.Migration.FirstRole), LaterRole: store.Role(c.Migration.LaterRole),
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

type legacyMailer struct{ c *mail.Composer }

func (m legacyMailer) SendRegistration(ctx context.Context, tx store.Durable, r legacy.RegistrationMail) error {
	msg, err := m.c.Compose(mail.KindLegacyRegister, language.Make(r.Locale), r.To, mail.LegacyRegisterData{
		Name: r.Name, Link: r.Link, ExpiresMinutes: int(r.Expires / time.Minute), LoginID: r.LoginID, Service: r.Service})
	if err != nil {
		return err
	}
	return mail.Enqueue(ctx, tx, msg)
}
