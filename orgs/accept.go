package orgs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// Refusals of an invitation link, one code each.
var (
	errInvitationInvalid = apperr.New(apperr.InvitationInvalid, "this invitation link is not valid")
	errInvitationExpired = apperr.New(apperr.InvitationExpired,
		"this invitation has expired: ask the organization's administrator for a new one")
	errInvitationUsed      = apperr.New(apperr.InvitationUsed, "this invitation was accepted already")
	errInvitationCancelled = apperr.New(apperr.InvitationCancelled, "this invitation was cancelled")
)

// OpenedInvitation is what the page of an invitation link shows.
type OpenedInvitation struct {
	Invitation   Invitation
	Organization store.Organization
	// AccountExists: the invited address has an account, which signs in
	// to accept; otherwise the person creates one (NewAccount).
	AccountExists bool
}

// OpenInvitation looks up the invitation of a link's token without
// changing anything. It fails with apperr.InvitationInvalid (no such
// token: tampered, or replaced by a resend), InvitationExpired,
// InvitationUsed or InvitationCancelled.
func (s *Service) OpenInvitation(ctx context.Context, token string) (OpenedInvitation, error) {
	inv, err := s.usableInvitation(ctx, s.d.Store, token)
	if err != nil {
		return OpenedInvitation{}, err
	}
	org, err := s.d.Store.GetOrganization(ctx, inv.OrgID)
	if err != nil {
		return OpenedInvitation{}, fmt.Errorf("orgs: invitation's organization: %w", err)
	}
	_, err = s.d.Store.GetUserByEmail(ctx, inv.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return OpenedInvitation{}, fmt.Errorf("orgs: look up invitee: %w", err)
	}
	return OpenedInvitation{Invitation: invitationOf(inv, s.now()), Organization: org, AccountExists: err == nil}, nil
}

// usableInvitation returns the pending invitation of token, or the
// refusal that says why it is not usable.
func (s *Service) usableInvitation(ctx context.Context, tx Tx, token string) (store.Invitation, error) {
	hash, ok := tokenHash(token)
	if !ok {
		return store.Invitation{}, errInvitationInvalid
	}
	inv, err := tx.GetInvitationByToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Invitation{}, errInvitationInvalid
	}
	if err != nil {
		return store.Invitation{}, fmt.Errorf("orgs: invitation: %w", err)
	}
	switch statusAt(inv, s.now()) {
	case InvitationAccepted:
		return store.Invitation{}, errInvitationUsed
	case InvitationCancelled:
		return store.Invitation{}, errInvitationCancelled
	case InvitationExpired:
		return store.Invitation{}, errInvitationExpired
	}
	return inv, nil
}

// NewAccount is what a person without an account gives to accept.
type NewAccount struct {
	Name     string
	Password string
	Locale   string // "" = negotiate from the browser
}

// Accepted is what AcceptInvitation did.
type Accepted struct {
	Membership store.Membership
	Created    bool // a new account was created
}

// AcceptInvitation accepts the invitation of a link's token:
//   - signedIn (the browser's account, "" when none) joins when its email
//     is the invited one; another account is apperr.InvitationWrongAccount;
//   - with nobody signed in, an existing account of the invited address
//     must sign in first (apperr.Unauthorized); a new person gives na, and
//     the account is created with the email verified (the link proved it)
//     after the password policy.
//
// Links that are not usable fail as OpenInvitation does, and nothing
// changes. Of concurrent acceptances of one invitation exactly one
// succeeds (the store marks it accepted once); the others get
// apperr.InvitationUsed.
func (s *Service) AcceptInvitation(ctx context.Context, token, signedIn string, na *NewAccount) (Accepted, error) {
	inv, err := s.usableInvitation(ctx, s.d.Store, token)
	if err != nil {
		return Accepted{}, err
	}
	var create *store.User
	userID := signedIn
	if signedIn != "" {
		u, err := s.d.Store.GetUser(ctx, signedIn)
		if err != nil {
			return Accepted{}, fmt.Errorf("orgs: signed-in account: %w", err)
		}
		if store.FoldEmail(u.Email) != store.FoldEmail(inv.Email) {
			return Accepted{}, apperr.New(apperr.InvitationWrongAccount,
				"this invitation is for another email address: sign out, then open the link again")
		}
	} else {
		_, err := s.d.Store.GetUserByEmail(ctx, inv.Email)
		switch {
		case err == nil:
			return Accepted{}, apperr.New(apperr.Unauthorized, "sign in with the invited email address to accept")
		case !errors.Is(err, store.ErrNotFound):
			return Accepted{}, fmt.Errorf("orgs: look up invitee: %w", err)
		}
		if create, err = s.newAccount(inv.Email, na); err != nil {
			return Accepted{}, err
		}
		userID = create.ID
	}
	now := s.now()
	m := store.Membership{UserID: userID, OrgID: inv.OrgID, Role: inv.Role, CreatedAt: now}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if _, err := tx.AcceptInvitation(ctx, inv.ID, userID, now); err != nil {
			switch {
			case errors.Is(err, store.ErrAlreadyUsed):
				return errInvitationUsed
			case errors.Is(err, store.ErrRevoked):
				return errInvitationCancelled
			case errors.Is(err, store.ErrNotFound):
				return errInvitationExpired
			}
			return fmt.Errorf("orgs: accept invitation: %w", err)
		}
		if create != nil {
			if err := tx.CreateUser(ctx, *create); err != nil {
				if errors.Is(err, store.ErrAlreadyExists) {
					return apperr.Wrap(apperr.Conflict, "an account with this email exists: sign in to accept", err)
				}
				return fmt.Errorf("orgs: create account: %w", err)
			}
		}
		if err := tx.CreateMembership(ctx, m); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return apperr.Wrap(apperr.Conflict, "you are a member of this organization already", err)
			}
			return fmt.Errorf("orgs: create membership: %w", err)
		}
		detail := map[string]string{"invitation": inv.ID, "role": string(inv.Role)}
		if create != nil {
			detail["account_created"] = "true"
		}
		return s.audit(ctx, tx, Person(userID), AuditInvitationAccepted, inv.OrgID, userID, detail)
	})
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{Membership: m, Created: create != nil}, nil
}

// newAccount checks what a new person gave and returns the account to
// create.
func (s *Service) newAccount(email string, na *NewAccount) (*store.User, error) {
	if na == nil {
		return nil, invalid("enter your name and a password to create your account")
	}
	name := strings.TrimSpace(na.Name)
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes || strings.ContainsFunc(name, isControl) {
		return nil, invalid("enter your name (at most 200 characters)")
	}
	if s.d.Policy == nil || s.d.Hasher == nil {
		return nil, errors.New("orgs: no password policy or hasher configured")
	}
	if err := s.d.Policy.Check(na.Password, email, name); err != nil {
		return nil, apperr.Wrap(apperr.Invalid, "the password does not meet the policy", err)
	}
	hash, err := s.d.Hasher.Hash(na.Password)
	if err != nil {
		return nil, fmt.Errorf("orgs: hash password: %w", err)
	}
	id, err := s.newID()
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &store.User{ID: id, Email: email, EmailVerified: true, Name: name, Locale: na.Locale,
		PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
