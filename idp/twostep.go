package idp

import (
	"context"

	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

// newTwoStep builds the two-step verification service over the durable
// store (credentials, audit, mail outbox), the ephemeral store (used TOTP
// steps, shared by every replica) and the KEK.
func (s *Server) newTwoStep() (*mfa.Service, error) {
	return mfa.NewService(mfa.Config{
		IssuerName: "Customer Hub",
		Store:      s.deps.Durable,
		Steps:      s.deps.Ephemeral,
		Sealer:     s.deps.Sealer,
		Notify:     s.mailMFARemoved,
		Now:        s.deps.Now,
		Rand:       s.deps.Rand,
	})
}

// mailMFARemoved queues, in tx, the notice that two-step verification was
// removed from u's account.
func (s *Server) mailMFARemoved(ctx context.Context, tx store.Durable, u store.User) error {
	lang := s.renderer.Bundle.Match(u.Locale)
	m, err := s.composer.Compose(mail.KindMFARemoved, lang, u.Email, mail.NameData{Name: u.Name})
	if err != nil {
		return err
	}
	return mail.Enqueue(ctx, tx, m)
}

// setPendingTOTP keeps a two-step setup in progress on a session.
func (s *Server) setPendingTOTP(ctx context.Context, sessionID string, p *store.PendingTOTP) error {
	_, err := s.Sessions.SetPendingTOTP(ctx, sessionID, p)
	return err
}

// TwoStep is the two-step verification service, for the console and the
// hubid command (organization policy, resets).
func (s *Server) TwoStep() *mfa.Service { return s.twoStep }
