package mfa

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/customerhub/hubid/store"
)

// otpauthURL is the enrollment URL of an existing secret, in the form
// totp.Generate writes (label "<issuer>:<account>", issuer parameter).
func otpauthURL(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("period", strconv.Itoa(Period))
	v.Set("algorithm", "SHA1")
	v.Set("digits", strconv.Itoa(Digits))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: strings.ReplaceAll(v.Encode(), "+", "%20")}
	return u.String()
}

// Required reports whether u must use two-step verification: u belongs
// to an organization that requires it. The rule applies to every sign-in
// of u, not only to that organization's services, because the SSO session
// a sign-in creates later reaches those services without a new password
// (docs/decisions.md); the token endpoint refuses refreshes without the
// second step for the organization's services (idp/oidcstore).
func (s *Service) Required(ctx context.Context, userID string) (bool, error) {
	ms, err := s.c.Store.ListMembershipsByUser(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("mfa: memberships: %w", err)
	}
	for _, m := range ms {
		o, err := s.c.Store.GetOrganization(ctx, m.OrgID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("mfa: organization: %w", err)
		}
		if o.RequireMFA {
			return true, nil
		}
	}
	return false, nil
}

// Enrolled reports whether u has an active authenticator.
func (s *Service) Enrolled(ctx context.Context, userID string) (bool, error) {
	st, err := s.Status(ctx, userID)
	return st.Enabled, err
}

// ShouldOffer reports whether the sign-in should offer setup to u, who has
// no authenticator: when it was removed (password reset, administrator,
// operator) and u has neither set it up again nor said "Not now" since.
func (s *Service) ShouldOffer(ctx context.Context, userID string) (bool, error) {
	ev, err := s.c.Store.ListAudit(ctx, store.AuditFilter{UserID: userID, Limit: 1,
		Kinds: []string{KindCleared, KindReset, KindActivated, KindSetupSkipped, KindDisabled}})
	if err != nil {
		return false, fmt.Errorf("mfa: history: %w", err)
	}
	return len(ev) == 1 && (ev[0].Kind == KindCleared || ev[0].Kind == KindReset), nil
}

// SkipSetup records "Not now" on an offered (not required) setup.
func (s *Service) SkipSetup(ctx context.Context, userID string, m Meta) error {
	return s.audit(ctx, s.c.Store, KindSetupSkipped, userID, m, nil)
}

// isAdmin reports whether actorID administers orgID.
func isAdmin(ctx context.Context, tx store.Durable, actorID, orgID string) (bool, error) {
	ms, err := tx.ListMembershipsByUser(ctx, actorID)
	if err != nil {
		return false, fmt.Errorf("mfa: memberships: %w", err)
	}
	for _, m := range ms {
		if m.OrgID == orgID && m.Role == store.RoleAdministrator {
			return true, nil
		}
	}
	return false, nil
}

// SetOrgRequired turns an organization's policy on or off. m.ActorID
// must administer the organization unless m.Operator (the hubid command).
// The change is audited in the organization's history.
func (s *Service) SetOrgRequired(ctx context.Context, orgID string, on bool, m Meta) error {
	m.OrgID = orgID
	return s.c.Store.InTx(ctx, func(tx store.Durable) error {
		if !m.Operator {
			ok, err := isAdmin(ctx, tx, m.ActorID, orgID)
			if err != nil {
				return err
			}
			if !ok {
				return ErrNotAdministrator
			}
		}
		if err := tx.SetOrganizationRequireMFA(ctx, orgID, on); err != nil {
			return fmt.Errorf("mfa: set policy: %w", err)
		}
		kind := KindOrgOptional
		if on {
			kind = KindOrgRequired
		}
		return s.audit(ctx, tx, kind, m.ActorID, m, map[string]string{"by": by(m)})
	})
}

func by(m Meta) string {
	if m.Operator {
		return "operator"
	}
	return "administrator"
}

// Reset removes a person's authenticator and recovery codes for them: an
// administrator of m.OrgID that the person belongs to, or an operator
// (m.Operator). It is audited (who did it), and the person is mailed.
// Their next sign-in offers setup again (forced where required).
func (s *Service) Reset(ctx context.Context, userID string, m Meta) error {
	return s.c.Store.InTx(ctx, func(tx store.Durable) error {
		if !m.Operator {
			ok, err := isAdmin(ctx, tx, m.ActorID, m.OrgID)
			if err != nil {
				return err
			}
			member, err := isMember(ctx, tx, userID, m.OrgID)
			if err != nil {
				return err
			}
			if !ok || !member {
				return ErrNotAdministrator
			}
		}
		// Authorized first: who may not reset learns nothing of the account.
		u, err := tx.GetUser(ctx, userID)
		if err != nil {
			return fmt.Errorf("mfa: reset: %w", err)
		}
		had, err := Remove(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !had {
			return ErrNotEnrolled
		}
		if err := s.audit(ctx, tx, KindReset, userID, m, map[string]string{"by": by(m)}); err != nil {
			return err
		}
		if s.c.Notify != nil {
			return s.c.Notify(ctx, tx, u)
		}
		return nil
	})
}

func isMember(ctx context.Context, tx store.Durable, userID, orgID string) (bool, error) {
	ms, err := tx.ListMembershipsByUser(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("mfa: memberships: %w", err)
	}
	for _, m := range ms {
		if m.OrgID == orgID {
			return true, nil
		}
	}
	return false, nil
}
