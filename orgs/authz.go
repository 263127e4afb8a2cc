package orgs

import (
	"context"
	"errors"
	"fmt"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// Action is something done in an organization, a row of the permission
// matrix.
type Action string

// Actions.
const (
	// ActSignIn: sign in to the hub and the organization's services.
	ActSignIn Action = "sign_in"
	// ActApplyService: apply for a new service for the organization, and
	// see the organization's applications.
	ActApplyService Action = "apply_service"
	// ActManageMembers: invite, edit and delete the organization's users;
	// see its members, invitations and usage history (the console).
	ActManageMembers Action = "manage_members"
	// ActEditUser: edit a user's information (the target of Authorize).
	ActEditUser Action = "edit_user"
	// ActOperate: what only operators do (decide applications, add any
	// account to an organization, manage organizations and services).
	ActOperate Action = "operate"
)

// Allowed is the permission matrix (docs/decisions.md). role is the
// actor's account type in the organization ("" when not a member), self
// whether the target user of ActEditUser is the actor.
//
//	action           administrator   normal     visitor    non-member
//	sign_in          yes             yes        yes        no
//	apply_service    yes             no         no         no
//	manage_members   yes             no         no         no
//	edit_user        org's users     own only   own only   own only
//	operate          no              no         no         no
//
// Operators are not in the matrix: Service.Authorize lets them do
// everything.
func Allowed(role store.Role, action Action, self bool) bool {
	switch action {
	case ActSignIn:
		return role.Valid()
	case ActApplyService, ActManageMembers:
		return role == store.RoleAdministrator
	case ActEditUser:
		return self || role == store.RoleAdministrator
	}
	return false
}

// errForbidden is the one refusal of Authorize: it says nothing of
// whether the organization or the target exists.
func errForbidden(cause error) error {
	return apperr.Wrap(apperr.Forbidden, "you may not do this in this organization", cause)
}

// Authorize returns nil when actor may do action in organization orgID
// (on targetUserID, for ActEditUser: the target must then be a member of
// orgID or the actor), and an apperr.Forbidden error otherwise. Operators
// may do everything. Every adapter and every Service method calls it.
func (s *Service) Authorize(ctx context.Context, actor Actor, orgID string, action Action, targetUserID string) error {
	return s.authorize(ctx, s.d.Store, actor, orgID, action, targetUserID)
}

func (s *Service) authorize(ctx context.Context, tx Tx, actor Actor, orgID string, action Action, target string) error {
	if actor.IsOperator() {
		return nil
	}
	if actor.UserID == "" {
		return errForbidden(errors.New("orgs: no actor"))
	}
	self := target != "" && target == actor.UserID
	if action == ActEditUser && self {
		return nil // everyone edits their own information
	}
	role, err := s.roleIn(ctx, tx, actor.UserID, orgID)
	if err != nil {
		return err
	}
	if !Allowed(role, action, self) {
		return errForbidden(fmt.Errorf("orgs: %s as %q in %s", action, role, orgID))
	}
	if action == ActEditUser {
		// An administrator edits the users of their organization only.
		r, err := s.roleIn(ctx, tx, target, orgID)
		if err != nil {
			return err
		}
		if r == "" {
			return errForbidden(fmt.Errorf("orgs: %s is not a member of %s", target, orgID))
		}
	}
	return nil
}

// roleIn returns userID's account type in orgID, "" when not a member.
func (s *Service) roleIn(ctx context.Context, tx Tx, userID, orgID string) (store.Role, error) {
	if userID == "" || orgID == "" {
		return "", nil
	}
	ms, err := tx.ListMembershipsByUser(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("orgs: memberships: %w", err)
	}
	for _, m := range ms {
		if m.OrgID == orgID {
			return m.Role, nil
		}
	}
	return "", nil
}

// Administered returns the organizations userID administers, by code: the
// consoles the person sees.
func (s *Service) Administered(ctx context.Context, userID string) ([]store.Organization, error) {
	ms, err := s.d.Store.ListMembershipsByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("orgs: memberships: %w", err)
	}
	var out []store.Organization
	for _, m := range ms {
		if m.Role != store.RoleAdministrator {
			continue
		}
		o, err := s.d.Store.GetOrganization(ctx, m.OrgID)
		if err != nil {
			return nil, fmt.Errorf("orgs: organization %s: %w", m.OrgID, err)
		}
		out = append(out, o)
	}
	sortOrgs(out)
	return out, nil
}
