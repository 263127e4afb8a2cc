package orgs

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// Audit event kinds of invitations.
const (
	AuditInvitationCreated   = "org.invitation.created"
	AuditInvitationResent    = "org.invitation.resent"
	AuditInvitationCancelled = "org.invitation.cancelled"
	AuditInvitationAccepted  = "org.invitation.accepted"
)

// InvitationStatus is where an invitation stands at a given time.
type InvitationStatus string

// Invitation statuses.
const (
	InvitationPending   InvitationStatus = "pending"
	InvitationAccepted  InvitationStatus = "accepted"
	InvitationExpired   InvitationStatus = "expired"
	InvitationCancelled InvitationStatus = "cancelled"
)

// Invitation is what adapters show of an invitation (never its token).
type Invitation struct {
	ID          string           `json:"id"`
	OrgID       string           `json:"org_id"`
	Email       string           `json:"email"`
	Role        store.Role       `json:"role"`
	Status      InvitationStatus `json:"status"`
	InvitedBy   string           `json:"invited_by,omitempty"`
	CreatedAt   time.Time        `json:"created_at"`
	ExpiresAt   time.Time        `json:"expires_at"`
	AcceptedAt  time.Time        `json:"accepted_at,omitzero"`
	AcceptedBy  string           `json:"accepted_by,omitempty"`
	CancelledAt time.Time        `json:"cancelled_at,omitzero"`
}

// statusAt is an invitation's status at now.
func statusAt(i store.Invitation, now time.Time) InvitationStatus {
	switch {
	case !i.AcceptedAt.IsZero():
		return InvitationAccepted
	case !i.CancelledAt.IsZero():
		return InvitationCancelled
	case !i.ExpiresAt.IsZero() && !now.Before(i.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

func invitationOf(i store.Invitation, now time.Time) Invitation {
	return Invitation{ID: i.ID, OrgID: i.OrgID, Email: i.Email, Role: i.Role, Status: statusAt(i, now),
		InvitedBy: i.InvitedBy, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt, AcceptedAt: i.AcceptedAt,
		AcceptedBy: i.AcceptedBy, CancelledAt: i.CancelledAt}
}

const (
	tokenBytes    = 32
	maxEmailBytes = 254
	maxNameRunes  = 200
)

// newToken returns a random link token and the hash that is stored.
func (s *Service) newToken() (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(s.d.Rand, b); err != nil {
		return "", "", fmt.Errorf("orgs: token: %w", err)
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// tokenHash returns the stored hash of a token from a link; ok is false
// when it cannot be one of ours (strict decoding: a changed character
// never decodes to the same bytes).
func tokenHash(token string) (hash string, ok bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return "", false
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:]), true
}

// PlausibleEmail accepts what could be an address: a local part, "@", a
// domain with a dot, no spaces or control characters, at most 254 bytes.
func PlausibleEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if len(s) > maxEmailBytes || at < 1 || at == len(s)-1 || !strings.Contains(s[at:], ".") || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// link is the absolute invitation link carrying token.
func (s *Service) link(token string) string {
	return s.d.BaseURL + AcceptPath + "?token=" + url.QueryEscape(token)
}

// Invite invites email into an organization with an account type: a
// single-use link valid InvitationTTL is mailed (in the invitee's own
// language when they have an account, else in locale, the inviter's).
// apperr.Conflict when the address is a member or has a pending
// invitation already (resend that one).
func (s *Service) Invite(ctx context.Context, actor Actor, orgID, email string, role store.Role, locale string) (Invitation, error) {
	email = strings.TrimSpace(email)
	if !PlausibleEmail(email) {
		return Invitation{}, invalid("enter a valid email address")
	}
	role, err := parseRole(role)
	if err != nil {
		return Invitation{}, err
	}
	id, err := s.newID()
	if err != nil {
		return Invitation{}, err
	}
	token, hash, err := s.newToken()
	if err != nil {
		return Invitation{}, err
	}
	now := s.now()
	inv := store.Invitation{ID: id, TokenHash: hash, OrgID: orgID, Email: email, Role: role,
		InvitedBy: actor.auditID(), CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := s.authorize(ctx, tx, actor, orgID, ActManageMembers, ""); err != nil {
			return err
		}
		org, err := tx.GetOrganization(ctx, orgID)
		if err != nil {
			return notFound(err, "organization")
		}
		if err := s.checkNotInvited(ctx, tx, orgID, email, now); err != nil {
			return err
		}
		if u, err := tx.GetUserByEmail(ctx, email); err == nil {
			if r, err := s.roleIn(ctx, tx, u.ID, orgID); err != nil {
				return err
			} else if r != "" {
				return apperr.New(apperr.Conflict, "this person is a member of the organization already")
			}
			if u.Locale != "" {
				locale = u.Locale
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("orgs: look up invitee: %w", err)
		}
		if err := tx.CreateInvitation(ctx, inv); err != nil {
			return fmt.Errorf("orgs: create invitation: %w", err)
		}
		if err := s.mailInvitation(ctx, tx, actor, org, inv, token, locale); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, AuditInvitationCreated, orgID, "",
			map[string]string{"invitation": id, "email": email, "role": string(role)})
	})
	if err != nil {
		return Invitation{}, err
	}
	return invitationOf(inv, now), nil
}

// checkNotInvited refuses a second pending invitation of one address.
func (s *Service) checkNotInvited(ctx context.Context, tx Tx, orgID, email string, now time.Time) error {
	all, err := tx.ListInvitationsByOrg(ctx, orgID)
	if err != nil {
		return fmt.Errorf("orgs: invitations: %w", err)
	}
	folded := store.FoldEmail(email)
	for _, i := range all {
		if statusAt(i, now) == InvitationPending && store.FoldEmail(i.Email) == folded {
			return apperr.New(apperr.Conflict, "this address has a pending invitation already: resend it instead")
		}
	}
	return nil
}

// mailInvitation queues the invitation mail in tx.
func (s *Service) mailInvitation(ctx context.Context, tx Tx, actor Actor, org store.Organization, inv store.Invitation, token, locale string) error {
	inviter := ""
	if !actor.IsOperator() {
		if u, err := tx.GetUser(ctx, actor.UserID); err == nil {
			inviter = u.Name
		}
	}
	m := Mail{Kind: MailInvitation, To: inv.Email, Locale: locale, Data: InvitationMail{
		OrgName: org.Name, InviterName: inviter, Role: inv.Role, Link: s.link(token),
		ExpiresDays: int(InvitationTTL / (24 * time.Hour))}}
	if err := s.d.Mailer.QueueMail(ctx, tx, m); err != nil {
		return fmt.Errorf("orgs: queue invitation mail: %w", err)
	}
	return nil
}

// ListInvitations returns an organization's invitations, oldest first;
// with pendingOnly, those that can still be accepted.
func (s *Service) ListInvitations(ctx context.Context, actor Actor, orgID string, pendingOnly bool) ([]Invitation, error) {
	if err := s.Authorize(ctx, actor, orgID, ActManageMembers, ""); err != nil {
		return nil, err
	}
	all, err := s.d.Store.ListInvitationsByOrg(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("orgs: invitations: %w", err)
	}
	now := s.now()
	var out []Invitation
	for _, i := range all {
		v := invitationOf(i, now)
		if !pendingOnly || v.Status == InvitationPending {
			out = append(out, v)
		}
	}
	return out, nil
}

// GetInvitation returns one of an organization's invitations.
func (s *Service) GetInvitation(ctx context.Context, actor Actor, orgID, id string) (Invitation, error) {
	if err := s.Authorize(ctx, actor, orgID, ActManageMembers, ""); err != nil {
		return Invitation{}, err
	}
	i, err := s.d.Store.GetInvitation(ctx, id)
	if err != nil || i.OrgID != orgID {
		return Invitation{}, apperr.Wrap(apperr.NotFound, "invitation not found", err)
	}
	return invitationOf(i, s.now()), nil
}

// updateInvitation runs fn on one of orgID's invitations under its lock.
func (s *Service) updateInvitation(ctx context.Context, tx Tx, orgID, id string, fn func(*store.Invitation) error) (store.Invitation, error) {
	i, err := tx.UpdateInvitation(ctx, id, func(i *store.Invitation) error {
		if i.OrgID != orgID {
			return apperr.New(apperr.NotFound, "invitation not found")
		}
		return fn(i)
	})
	if errors.Is(err, store.ErrNotFound) {
		return i, apperr.Wrap(apperr.NotFound, "invitation not found", err)
	}
	return i, err
}

// ResendInvitation mails a pending (or expired) invitation again with a
// new link valid InvitationTTL; the old link stops working.
func (s *Service) ResendInvitation(ctx context.Context, actor Actor, orgID, id, locale string) (Invitation, error) {
	token, hash, err := s.newToken()
	if err != nil {
		return Invitation{}, err
	}
	now := s.now()
	var out store.Invitation
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := s.authorize(ctx, tx, actor, orgID, ActManageMembers, ""); err != nil {
			return err
		}
		org, err := tx.GetOrganization(ctx, orgID)
		if err != nil {
			return notFound(err, "organization")
		}
		out, err = s.updateInvitation(ctx, tx, orgID, id, func(i *store.Invitation) error {
			switch statusAt(*i, now) {
			case InvitationAccepted:
				return apperr.New(apperr.Conflict, "the invitation was accepted already")
			case InvitationCancelled:
				return apperr.New(apperr.Conflict, "the invitation was cancelled: invite again")
			}
			i.TokenHash, i.ExpiresAt = hash, now.Add(InvitationTTL)
			return nil
		})
		if err != nil {
			return err
		}
		if u, err := tx.GetUserByEmail(ctx, out.Email); err == nil && u.Locale != "" {
			locale = u.Locale
		}
		if err := s.mailInvitation(ctx, tx, actor, org, out, token, locale); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, AuditInvitationResent, orgID, "",
			map[string]string{"invitation": id, "email": out.Email})
	})
	if err != nil {
		return Invitation{}, err
	}
	return invitationOf(out, now), nil
}

// CancelInvitation cancels an invitation that was not accepted: its link
// stops working. Cancelling it again changes nothing.
func (s *Service) CancelInvitation(ctx context.Context, actor Actor, orgID, id string) (Invitation, error) {
	now := s.now()
	var out store.Invitation
	err := s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := s.authorize(ctx, tx, actor, orgID, ActManageMembers, ""); err != nil {
			return err
		}
		was := InvitationPending
		var err error
		out, err = s.updateInvitation(ctx, tx, orgID, id, func(i *store.Invitation) error {
			was = statusAt(*i, now)
			switch was {
			case InvitationAccepted:
				return apperr.New(apperr.Conflict, "the invitation was accepted already: remove the member instead")
			case InvitationCancelled:
				return nil
			}
			i.CancelledAt = now
			return nil
		})
		if err != nil || was == InvitationCancelled {
			return err
		}
		return s.audit(ctx, tx, actor, AuditInvitationCancelled, orgID, "",
			map[string]string{"invitation": id, "email": out.Email})
	})
	if err != nil {
		return Invitation{}, err
	}
	return invitationOf(out, now), nil
}
