package orgs

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// Audit event kinds of memberships.
const (
	AuditMemberAdded       = "org.member.added"
	AuditMemberRoleChanged = "org.member.role_changed"
	AuditMemberRemoved     = "org.member.removed"
)

// Member is what a members list shows about one member.
type Member struct {
	UserID        string     `json:"user_id"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	Name          string     `json:"name"`
	Disabled      bool       `json:"disabled"`
	Role          store.Role `json:"role"`
	// MFA is true when the person has a confirmed TOTP authenticator.
	MFA bool `json:"mfa"`
	// LastSignIn is the person's latest successful sign-in kept in the
	// usage history; zero when none is (never, or past the retention).
	LastSignIn time.Time `json:"last_sign_in,omitzero"`
	Joined     time.Time `json:"joined"`
}

func memberOf(m store.Member) Member {
	return Member{UserID: m.UserID, Email: m.User.Email, EmailVerified: m.User.EmailVerified, Name: m.User.Name,
		Disabled: m.User.Disabled, Role: m.Role, MFA: m.MFA, LastSignIn: m.LastSignIn, Joined: m.CreatedAt}
}

// Page sizes of lists.
const (
	DefaultPageSize = 25
	MaxPageSize     = 200
)

// MemberQuery selects a page of members.
type MemberQuery struct {
	Search string // part of a name or an email; "" = everyone
	Cursor string // MemberPage.Next of the previous page; "" = the first
	Limit  int    // 0 = DefaultPageSize; at most MaxPageSize
}

// MemberPage is one page of members, by email.
type MemberPage struct {
	Members []Member
	Next    string // cursor of the next page; "" on the last
}

// pageSize bounds a requested page size.
func pageSize(n int) int {
	if n <= 0 {
		return DefaultPageSize
	}
	return min(n, MaxPageSize)
}

// encodeCursor and decodeCursor make a keyset position opaque.
func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", invalid("the page cursor is not valid")
	}
	return string(b), nil
}

// ListMembers returns a page of an organization's members (administrators
// of the organization and operators).
func (s *Service) ListMembers(ctx context.Context, actor Actor, orgID string, q MemberQuery) (MemberPage, error) {
	if err := s.Authorize(ctx, actor, orgID, ActManageMembers, ""); err != nil {
		return MemberPage{}, err
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return MemberPage{}, err
	}
	if len(q.Search) > 254 {
		return MemberPage{}, invalid("the search is too long")
	}
	n := pageSize(q.Limit)
	ms, err := s.d.Store.ListMembers(ctx, store.MemberFilter{OrgID: orgID, Query: q.Search, After: after, Limit: n + 1})
	if err != nil {
		return MemberPage{}, fmt.Errorf("orgs: list members: %w", err)
	}
	var p MemberPage
	if len(ms) > n {
		ms = ms[:n]
		p.Next = encodeCursor(store.FoldEmail(ms[n-1].User.Email))
	}
	for _, m := range ms {
		p.Members = append(p.Members, memberOf(m))
	}
	return p, nil
}

// GetMember returns one member of an organization.
func (s *Service) GetMember(ctx context.Context, actor Actor, orgID, userID string) (Member, error) {
	if err := s.Authorize(ctx, actor, orgID, ActManageMembers, ""); err != nil {
		return Member{}, err
	}
	m, err := s.d.Store.GetMember(ctx, userID, orgID)
	if err != nil {
		return Member{}, notFound(err, "member")
	}
	return memberOf(m), nil
}

// AddMember makes an existing account a member of an organization with an
// account type. Only operators do this directly: an administrator invites
// (the person accepts). apperr.Conflict when the account is a member.
func (s *Service) AddMember(ctx context.Context, actor Actor, orgID, userID string, role store.Role) (store.Membership, error) {
	role, err := parseRole(role)
	if err != nil {
		return store.Membership{}, err
	}
	if err := s.Authorize(ctx, actor, orgID, ActOperate, ""); err != nil {
		return store.Membership{}, err
	}
	m := store.Membership{UserID: userID, OrgID: orgID, Role: role, CreatedAt: s.now()}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.CreateMembership(ctx, m); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return apperr.Wrap(apperr.Conflict, "the account is a member of the organization already", err)
			}
			return notFound(err, "account or organization")
		}
		return s.audit(ctx, tx, actor, AuditMemberAdded, orgID, userID, map[string]string{"role": string(role)})
	})
	if err != nil {
		return store.Membership{}, err
	}
	return m, nil
}

// lastAdmin maps the store's refusal to the error adapters show.
func lastAdmin(err error) error {
	if errors.Is(err, store.ErrLastAdministrator) {
		return apperr.Wrap(apperr.LastAdministrator,
			"the organization must keep an administrator: make someone else an administrator first", err)
	}
	return notFound(err, "member")
}

// ChangeRole changes a member's account type. The organization's last
// administrator cannot be demoted (apperr.LastAdministrator), even by
// concurrent requests: the store serializes them.
func (s *Service) ChangeRole(ctx context.Context, actor Actor, orgID, userID string, role store.Role) (store.Membership, error) {
	role, err := parseRole(role)
	if err != nil {
		return store.Membership{}, err
	}
	var out store.Membership
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := s.authorize(ctx, tx, actor, orgID, ActManageMembers, ""); err != nil {
			return err
		}
		old, err := tx.SetMembershipRole(ctx, userID, orgID, role)
		if err != nil {
			return lastAdmin(err)
		}
		if err := s.recheck(ctx, tx, actor, orgID, userID); err != nil {
			return err
		}
		out = old
		out.Role = role
		if old.Role == role {
			return nil
		}
		return s.audit(ctx, tx, actor, AuditMemberRoleChanged, orgID, userID,
			map[string]string{"from": string(old.Role), "to": string(role)})
	})
	if err != nil {
		return store.Membership{}, err
	}
	return out, nil
}

// recheck authorizes actor again once the store holds the organization's
// lock (taken by SetMembershipRole and RemoveMembership): an administrator
// demoted by a change that committed between the first check and the lock
// is refused, and the transaction rolls back. A change of one's own
// membership needs no second look: it only lowers one's rights.
func (s *Service) recheck(ctx context.Context, tx Tx, actor Actor, orgID, target string) error {
	if actor.IsOperator() || target == actor.UserID {
		return nil
	}
	return s.authorize(ctx, tx, actor, orgID, ActManageMembers, "")
}

// RemoveOptions are the choices of RemoveMember.
type RemoveOptions struct {
	// DeleteAccount also deletes the person's account; refused (nothing
	// changes) with apperr.Conflict when the account belongs to another
	// organization. The adapter sets it only on the actor's confirmation.
	DeleteAccount bool
}

// Removed is what RemoveMember did.
type Removed struct {
	Membership     store.Membership
	AccountDeleted bool
}

// RemoveMember removes a member from an organization, and with
// DeleteAccount their account too. The last administrator cannot be
// removed (apperr.LastAdministrator). The person's tokens for services
// the organization was their only entitlement to stop working at their
// next refresh (claims are computed at every issue).
func (s *Service) RemoveMember(ctx context.Context, actor Actor, orgID, userID string, opt RemoveOptions) (Removed, error) {
	var out Removed
	err := s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := s.authorize(ctx, tx, actor, orgID, ActManageMembers, ""); err != nil {
			return err
		}
		old, err := tx.RemoveMembership(ctx, userID, orgID)
		if err != nil {
			return lastAdmin(err)
		}
		if err := s.recheck(ctx, tx, actor, orgID, userID); err != nil {
			return err
		}
		out.Membership = old
		detail := map[string]string{"role": string(old.Role)}
		if opt.DeleteAccount {
			rest, err := tx.ListMembershipsByUser(ctx, userID)
			if err != nil {
				return fmt.Errorf("orgs: memberships: %w", err)
			}
			if len(rest) > 0 {
				return apperr.New(apperr.Conflict,
					"the account belongs to another organization too: remove the member without deleting the account")
			}
			if err := tx.DeleteUser(ctx, userID); err != nil {
				return fmt.Errorf("orgs: delete account: %w", err)
			}
			out.AccountDeleted = true
			detail["account_deleted"] = "true"
		}
		return s.audit(ctx, tx, actor, AuditMemberRemoved, orgID, userID, detail)
	})
	if err != nil {
		return Removed{}, err
	}
	return out, nil
}

// sortOrgs orders organizations by code.
func sortOrgs(os []store.Organization) {
	slices.SortFunc(os, func(a, b store.Organization) int { return cmp.Compare(a.Code, b.Code) })
}

// Organization resolves an organization by ID or, failing that, by code
// (adapters take either); apperr.NotFound when neither matches.
func (s *Service) Organization(ctx context.Context, idOrCode string) (store.Organization, error) {
	idOrCode = strings.TrimSpace(idOrCode)
	if idOrCode == "" {
		return store.Organization{}, invalid("no organization given")
	}
	o, err := s.d.Store.GetOrganization(ctx, idOrCode)
	if errors.Is(err, store.ErrNotFound) {
		o, err = s.d.Store.GetOrganizationByCode(ctx, idOrCode)
	}
	if err != nil {
		return store.Organization{}, notFound(err, "organization")
	}
	return o, nil
}
