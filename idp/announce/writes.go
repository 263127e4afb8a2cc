package announce

import (
	"context"

	"github.com/customerhub/hubid/store"
)

// The writes announced. Creating a user, an organization or a service
// changes no one's cached records (nothing was cached for them), so it is
// not announced.

func (n *notifying) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	u, err := n.Durable.UpdateUser(ctx, id, fn)
	n.changed(ctx, err, User, id)
	return u, err
}

func (n *notifying) DeleteUser(ctx context.Context, id string) error {
	err := n.Durable.DeleteUser(ctx, id)
	n.changed(ctx, err, User, id)
	return err
}

func (n *notifying) PutMembership(ctx context.Context, m store.Membership) error {
	err := n.Durable.PutMembership(ctx, m)
	n.changed(ctx, err, Claims, m.UserID)
	return err
}

func (n *notifying) CreateMembership(ctx context.Context, m store.Membership) error {
	err := n.Durable.CreateMembership(ctx, m)
	n.changed(ctx, err, Claims, m.UserID)
	return err
}

func (n *notifying) DeleteMembership(ctx context.Context, userID, orgID string) error {
	err := n.Durable.DeleteMembership(ctx, userID, orgID)
	n.changed(ctx, err, Claims, userID)
	return err
}

func (n *notifying) SetMembershipRole(ctx context.Context, userID, orgID string, role store.Role) (store.Membership, error) {
	m, err := n.Durable.SetMembershipRole(ctx, userID, orgID, role)
	n.changed(ctx, err, Claims, userID)
	return m, err
}

func (n *notifying) RemoveMembership(ctx context.Context, userID, orgID string) (store.Membership, error) {
	m, err := n.Durable.RemoveMembership(ctx, userID, orgID)
	n.changed(ctx, err, Claims, userID)
	return m, err
}

func (n *notifying) LinkLegacyLoginID(ctx context.Context, l store.LegacyLink, fn func(org store.Organization, members []store.Membership) (*store.Membership, error)) error {
	err := n.Durable.LinkLegacyLoginID(ctx, l, fn)
	n.changed(ctx, err, Claims, l.UserID) // it may add a membership
	return err
}

func (n *notifying) CreateLegacyLink(ctx context.Context, l store.LegacyLink) error {
	err := n.Durable.CreateLegacyLink(ctx, l)
	n.changed(ctx, err, Claims, l.UserID) // legacy_ids
	return err
}

func (n *notifying) DeleteLegacyLink(ctx context.Context, userID, serviceID string) error {
	err := n.Durable.DeleteLegacyLink(ctx, userID, serviceID)
	n.changed(ctx, err, Claims, userID) // legacy_ids
	return err
}

func (n *notifying) UpdateOrganization(ctx context.Context, id string, fn func(*store.Organization) error) (store.Organization, error) {
	o, err := n.Durable.UpdateOrganization(ctx, id, fn)
	n.changed(ctx, err, Claims, Everyone)
	return o, err
}

func (n *notifying) DeleteOrganization(ctx context.Context, id string) error {
	err := n.Durable.DeleteOrganization(ctx, id)
	n.changed(ctx, err, Claims, Everyone)
	return err
}

func (n *notifying) SetOrganizationRequireMFA(ctx context.Context, orgID string, on bool) error {
	err := n.Durable.SetOrganizationRequireMFA(ctx, orgID, on)
	n.changed(ctx, err, Claims, Everyone)
	return err
}

func (n *notifying) PutEntitlement(ctx context.Context, e store.Entitlement) error {
	err := n.Durable.PutEntitlement(ctx, e)
	n.changed(ctx, err, Claims, Everyone)
	return err
}

func (n *notifying) DeleteEntitlement(ctx context.Context, orgID, serviceID string) error {
	err := n.Durable.DeleteEntitlement(ctx, orgID, serviceID)
	n.changed(ctx, err, Claims, Everyone)
	return err
}

func (n *notifying) DeleteService(ctx context.Context, id string) error {
	err := n.Durable.DeleteService(ctx, id) // its entitlements go with it
	n.changed(ctx, err, Claims, Everyone)
	return err
}
