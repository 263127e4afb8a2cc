package storetest

import (
	"context"
	"testing"

	"github.com/customerhub/hubid/store"
)

// durEntitledMemberships: one read returns a user's memberships in the
// organizations entitled to a service, with each organization (its
// two-step policy too), by code; other services, other users and
// organizations not entitled stay out.
func durEntitledMemberships(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	o1, o2, o3 := durOrg("o1", now), durOrg("o2", now), durOrg("o3", now)
	o2.RequireMFA = true
	for _, o := range []store.Organization{o3, o2, o1} {
		durMust(t, "org "+o.ID, s.CreateOrganization(ctx, o))
	}
	durMust(t, "svc s1", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "svc s2", s.CreateService(ctx, durService("s2", now)))
	durMust(t, "user u1", s.CreateUser(ctx, durUser("u1", "u1@example.com", now)))
	durMust(t, "user u2", s.CreateUser(ctx, durUser("u2", "u2@example.com", now)))
	for _, e := range []store.Entitlement{{OrgID: "o1", ServiceID: "s1"}, {OrgID: "o2", ServiceID: "s1"}, {OrgID: "o3", ServiceID: "s2"}} {
		e.CreatedAt = now
		durMust(t, "entitle", s.PutEntitlement(ctx, e))
	}
	for _, m := range []store.Membership{
		{UserID: "u1", OrgID: "o2", Role: store.RoleAdministrator}, {UserID: "u1", OrgID: "o1", Role: store.RoleNormal},
		{UserID: "u1", OrgID: "o3", Role: store.RoleVisitor}, {UserID: "u2", OrgID: "o1", Role: store.RoleAdministrator},
	} {
		m.CreatedAt = now
		durMust(t, "membership", s.PutMembership(ctx, m))
	}
	got, err := s.ListEntitledMemberships(ctx, "u1", "s1")
	durIs(t, "ListEntitledMemberships", err, nil)
	durEqual(t, "ListEntitledMemberships", got, []store.EntitledMembership{
		{Organization: o1, Role: store.RoleNormal}, {Organization: o2, Role: store.RoleAdministrator}})
	got, err = s.ListEntitledMemberships(ctx, "u1", "ghost")
	durIs(t, "ListEntitledMemberships unknown service", err, nil)
	if len(got) != 0 {
		t.Fatalf("unknown service: %+v", got)
	}
}
