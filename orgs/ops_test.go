package orgs_test

import (
	"context"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// namedOp is an administrative operation for TestAuthorizationEveryOperation.
type namedOp struct {
	name string
	fn   func(e *env, a orgs.Actor, org string) error
}

// extraOperations are the operations of invitations and applications.
// Each works on a record of the organization it is called for, so that
// an allowed call is never refused as Forbidden.
func extraOperations() []namedOp {
	ctx := context.Background()
	// invitation returns the ID of a pending invitation of org, made by
	// an operator.
	invitation := func(e *env, org string) string {
		e.t.Helper()
		inv, err := e.svc.Invite(ctx, orgs.Operator("setup"), org, "inv-"+org+"@example.com", store.RoleNormal, "")
		if err != nil { // invited already, by an earlier call
			list, _ := e.svc.ListInvitations(ctx, orgs.Operator("setup"), org, false)
			return list[0].ID
		}
		return inv.ID
	}
	return []namedOp{
		{"Invite", func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.Invite(ctx, a, org, "someone@example.com", store.RoleNormal, "")
			return err
		}},
		{"ListInvitations", func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.ListInvitations(ctx, a, org, false)
			return err
		}},
		{"GetInvitation", func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.GetInvitation(ctx, a, org, invitation(e, org))
			return err
		}},
		{"ResendInvitation", func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.ResendInvitation(ctx, a, org, invitation(e, org), "")
			return err
		}},
		{"Apply", func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.Apply(ctx, a, org, "nk-pass", "")
			return err
		}},
		{"ListApplications", func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.ListApplications(ctx, a, orgs.ApplicationQuery{OrgID: org})
			return err
		}},
		{"CancelInvitation", func(e *env, a orgs.Actor, org string) error {
			_, err := e.svc.CancelInvitation(ctx, a, org, invitation(e, org))
			return err
		}},
	}
}
