package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// durOrgWith creates organization id with users u1..un as members, the
// first `admins` of them administrators and the others normal.
func durOrgWith(t *testing.T, s store.Durable, now time.Time, id string, n, admins int) {
	t.Helper()
	ctx := context.Background()
	durMust(t, "org "+id, s.CreateOrganization(ctx, durOrg(id, now)))
	for i := 1; i <= n; i++ {
		role := store.RoleNormal
		if i <= admins {
			role = store.RoleAdministrator
		}
		durMust(t, "membership", s.CreateMembership(ctx, store.Membership{UserID: fmt.Sprintf("u%d", i), OrgID: id, Role: role}))
	}
}

func durAdmins(t *testing.T, s store.Durable, orgID string) int {
	t.Helper()
	ms, err := s.ListMembershipsByOrg(context.Background(), orgID)
	durMust(t, "ListMembershipsByOrg", err)
	n := 0
	for _, m := range ms {
		if m.Role == store.RoleAdministrator {
			n++
		}
	}
	return n
}

func durLastAdministrator(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 3)
	durOrgWith(t, s, now, "o1", 3, 2)
	durMust(t, "org o2", s.CreateOrganization(ctx, durOrg("o2", now)))

	durIs(t, "CreateMembership again", s.CreateMembership(ctx, store.Membership{UserID: "u1", OrgID: "o1", Role: store.RoleNormal}), store.ErrAlreadyExists)
	durIs(t, "CreateMembership missing user", s.CreateMembership(ctx, store.Membership{UserID: "ghost", OrgID: "o1", Role: store.RoleNormal}), store.ErrNotFound)

	old, err := s.SetMembershipRole(ctx, "u1", "o1", store.RoleVisitor)
	durIs(t, "demote one of two administrators", err, nil)
	durEqual(t, "previous role", old.Role, store.RoleAdministrator)
	_, err = s.SetMembershipRole(ctx, "u2", "o1", store.RoleNormal)
	durIs(t, "demote the last administrator", err, store.ErrLastAdministrator)
	_, err = s.RemoveMembership(ctx, "u2", "o1")
	durIs(t, "remove the last administrator", err, store.ErrLastAdministrator)
	durEqual(t, "administrators left", durAdmins(t, s, "o1"), 1)
	m, err := s.GetMember(ctx, "u2", "o1")
	durIs(t, "GetMember", err, nil)
	durEqual(t, "last administrator unchanged", m.Role, store.RoleAdministrator)

	_, err = s.SetMembershipRole(ctx, "u2", "o1", store.RoleAdministrator)
	durIs(t, "administrator to administrator", err, nil)
	_, err = s.SetMembershipRole(ctx, "u3", "o1", store.RoleAdministrator)
	durIs(t, "promote", err, nil)
	old, err = s.RemoveMembership(ctx, "u2", "o1")
	durIs(t, "remove an administrator who is not the last", err, nil)
	durEqual(t, "removed membership", old.UserID+"/"+string(old.Role), "u2/administrator")
	_, err = s.RemoveMembership(ctx, "u1", "o1")
	durIs(t, "remove a visitor", err, nil)
	_, err = s.RemoveMembership(ctx, "u1", "o1")
	durIs(t, "remove again", err, store.ErrNotFound)
	_, err = s.SetMembershipRole(ctx, "u1", "o2", store.RoleNormal)
	durIs(t, "role of a non-member", err, store.ErrNotFound)
	_, err = s.SetMembershipRole(ctx, "u1", "ghost", store.RoleNormal)
	durIs(t, "role in a missing organization", err, store.ErrNotFound)

	// In a transaction, the refusal leaves the transaction usable.
	err = s.InTx(ctx, func(tx store.Durable) error {
		if _, err := tx.RemoveMembership(ctx, "u3", "o1"); err == nil {
			return fmt.Errorf("removed the last administrator in a transaction")
		}
		return tx.CreateMembership(ctx, store.Membership{UserID: "u1", OrgID: "o1", Role: store.RoleNormal})
	})
	durIs(t, "InTx after a refusal", err, nil)
	_, err = s.GetMember(ctx, "u1", "o1")
	durIs(t, "membership written after a refusal", err, nil)
}

func durMembersList(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	users := []store.User{
		durUser("a", "Alice@Example.com", now), durUser("b", "bob@example.com", now),
		durUser("c", "carol_x@example.com", now), durUser("d", "dave@other.test", now),
	}
	users[0].Name, users[1].Name, users[2].Name, users[3].Name = "Alice Ärger", "Bob 山田", "Carol 100%", "Dave"
	for _, u := range users {
		durMust(t, "user", s.CreateUser(ctx, u))
	}
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o2", now)))
	for _, id := range []string{"a", "b", "c"} {
		durMust(t, "member", s.CreateMembership(ctx, store.Membership{UserID: id, OrgID: "o1", Role: store.RoleNormal}))
	}
	durMust(t, "member", s.CreateMembership(ctx, store.Membership{UserID: "d", OrgID: "o2", Role: store.RoleNormal}))
	durMust(t, "totp a", s.PutTOTP(ctx, store.TOTPCredential{UserID: "a", Sealed: []byte("x"), ConfirmedAt: now}))
	durMust(t, "totp b pending", s.PutTOTP(ctx, store.TOTPCredential{UserID: "b", Sealed: []byte("x")}))
	t1, t2 := now.Add(time.Hour), now.Add(2*time.Hour)
	for _, e := range []store.AuditEvent{
		{Kind: "signin.success", UserID: "a", Time: t2}, {Kind: "signin.success", UserID: "a", Time: t1},
		{Kind: "signin.failure", UserID: "b", Time: t2}, {Kind: "signin.success", UserID: "c", Time: t1},
	} {
		_, err := s.AppendAudit(ctx, e)
		durMust(t, "audit", err)
	}

	ids := func(ms []store.Member) (out []string) {
		for _, m := range ms {
			out = append(out, m.UserID)
		}
		return out
	}
	all, err := s.ListMembers(ctx, store.MemberFilter{OrgID: "o1"})
	durIs(t, "ListMembers", err, nil)
	durEqual(t, "members by email", ids(all), []string{"a", "b", "c"})
	durEqual(t, "user read with the member", all[0].User, users[0])
	durEqual(t, "membership", all[0].Membership, store.Membership{UserID: "a", OrgID: "o1", Role: store.RoleNormal, CreatedAt: now})
	durEqual(t, "MFA confirmed / pending / none", []bool{all[0].MFA, all[1].MFA, all[2].MFA}, []bool{true, false, false})
	durEqual(t, "last sign-in", []time.Time{all[0].LastSignIn, all[1].LastSignIn, all[2].LastSignIn}, []time.Time{t2, {}, t1})

	page1, _ := s.ListMembers(ctx, store.MemberFilter{OrgID: "o1", Limit: 2})
	durEqual(t, "page 1", ids(page1), []string{"a", "b"})
	page2, _ := s.ListMembers(ctx, store.MemberFilter{OrgID: "o1", Limit: 2, After: store.FoldEmail(page1[1].User.Email)})
	durEqual(t, "page 2", ids(page2), []string{"c"})

	for q, want := range map[string][]string{
		"ALICE": {"a"}, "Ärger": {"a"}, "山田": {"b"}, "example.com": {"a", "b", "c"}, "100%": {"c"},
		"%": {"c"}, "_": {"c"}, "dave": nil, "  bob ": {"b"},
	} {
		got, err := s.ListMembers(ctx, store.MemberFilter{OrgID: "o1", Query: q})
		durIs(t, "search "+q, err, nil)
		durEqual(t, "search "+q, ids(got), want)
	}
	_, err = s.GetMember(ctx, "d", "o1")
	durIs(t, "GetMember of another organization's member", err, store.ErrNotFound)

	us, err := s.ListUsers(ctx, store.UserFilter{Limit: 3})
	durIs(t, "ListUsers", err, nil)
	durEqual(t, "users page", len(us), 3)
	us, _ = s.ListUsers(ctx, store.UserFilter{After: store.FoldEmail(us[2].Email)})
	durEqual(t, "users page 2", us, []store.User{users[3]})
	us, _ = s.ListUsers(ctx, store.UserFilter{Query: "other.test"})
	durEqual(t, "users search", us, []store.User{users[3]})
}

func durOrgsUpdateDelete(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 1)
	durOrgWith(t, s, now, "o1", 1, 1)
	durMust(t, "org o2", s.CreateOrganization(ctx, durOrg("o2", now)))
	durMust(t, "svc", s.CreateService(ctx, durService("s1", now)))
	durMust(t, "svc", s.CreateService(ctx, durService("s2", now)))
	durMust(t, "entitlement", s.PutEntitlement(ctx, store.Entitlement{OrgID: "o1", ServiceID: "s1"}))

	o, err := s.UpdateOrganization(ctx, "o1", func(o *store.Organization) error {
		o.Name, o.ID, o.CreatedAt = "Renamed", "hijack", time.Time{}
		return nil
	})
	durIs(t, "UpdateOrganization", err, nil)
	durEqual(t, "updated organization", o, store.Organization{ID: "o1", Code: "C-o1", Name: "Renamed", CreatedAt: now})
	_, err = s.UpdateOrganization(ctx, "o1", func(o *store.Organization) error { o.Code = "C-o2"; return nil })
	durIs(t, "UpdateOrganization taken code", err, store.ErrAlreadyExists)
	_, err = s.UpdateOrganization(ctx, "ghost", func(*store.Organization) error { return nil })
	durIs(t, "UpdateOrganization missing", err, store.ErrNotFound)
	v, err := s.UpdateService(ctx, "s1", func(v *store.Service) error { v.Name = "NK"; return nil })
	durIs(t, "UpdateService", err, nil)
	durEqual(t, "updated service", v.Name, "NK")
	_, err = s.UpdateService(ctx, "s1", func(v *store.Service) error { v.Code = "svc-s2"; return nil })
	durIs(t, "UpdateService taken code", err, store.ErrAlreadyExists)

	durIs(t, "DeleteService", s.DeleteService(ctx, "s1"), nil)
	es, _ := s.ListEntitlementsByOrg(ctx, "o1")
	durEqual(t, "entitlements of a deleted service", len(es), 0)
	durIs(t, "DeleteService again", s.DeleteService(ctx, "s1"), store.ErrNotFound)
	durIs(t, "DeleteOrganization", s.DeleteOrganization(ctx, "o1"), nil)
	ms, _ := s.ListMembershipsByUser(ctx, "u1")
	durEqual(t, "memberships of a deleted organization", len(ms), 0)
	durIs(t, "DeleteOrganization again", s.DeleteOrganization(ctx, "o1"), store.ErrNotFound)
}

func durInvitationLifecycle(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 1)
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	i := store.Invitation{ID: "inv", TokenHash: "t1", OrgID: "o1", Email: "x@example.com", Role: store.RoleNormal,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	durMust(t, "CreateInvitation", s.CreateInvitation(ctx, i))
	durIs(t, "CreateInvitation same token", s.CreateInvitation(ctx, store.Invitation{ID: "other", TokenHash: "t1",
		OrgID: "o1", Email: "y@example.com", Role: store.RoleNormal}), store.ErrAlreadyExists)
	got, err := s.GetInvitationByToken(ctx, "t1")
	durIs(t, "GetInvitationByToken", err, nil)
	durEqual(t, "GetInvitationByToken", got, i)

	// A resend replaces the token: the old one no longer finds it.
	got, err = s.UpdateInvitation(ctx, "inv", func(v *store.Invitation) error {
		v.TokenHash, v.ExpiresAt, v.OrgID = "t2", now.Add(2*time.Hour), "hijack"
		return nil
	})
	durIs(t, "UpdateInvitation", err, nil)
	durEqual(t, "organization kept", got.OrgID, "o1")
	_, err = s.GetInvitationByToken(ctx, "t1")
	durIs(t, "old token", err, store.ErrNotFound)
	_, err = s.UpdateInvitation(ctx, "nope", func(*store.Invitation) error { return nil })
	durIs(t, "UpdateInvitation missing", err, store.ErrNotFound)

	_, err = s.UpdateInvitation(ctx, "inv", func(v *store.Invitation) error { v.CancelledAt = now; return nil })
	durIs(t, "cancel", err, nil)
	_, err = s.AcceptInvitation(ctx, "inv", "u1", now)
	durIs(t, "accept a cancelled invitation", err, store.ErrRevoked)
	got, _ = s.GetInvitation(ctx, "inv")
	durEqual(t, "cancelled invitation not accepted", got.AcceptedAt.IsZero() && got.AcceptedBy == "", true)
}

func durServiceApplications(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "org", s.CreateOrganization(ctx, durOrg("o2", now)))
	durMust(t, "svc", s.CreateService(ctx, durService("s1", now)))
	a1 := store.ServiceApplication{ID: "a1", OrgID: "o1", ServiceID: "s1", ApplicantID: "u1", Note: "please",
		Status: store.ApplicationPending, CreatedAt: now}
	durIs(t, "CreateServiceApplication", s.CreateServiceApplication(ctx, a1), nil)
	durIs(t, "second pending application", s.CreateServiceApplication(ctx, store.ServiceApplication{ID: "a2",
		OrgID: "o1", ServiceID: "s1", Status: store.ApplicationPending}), store.ErrAlreadyExists)
	durIs(t, "missing service", s.CreateServiceApplication(ctx, store.ServiceApplication{ID: "a3",
		OrgID: "o1", ServiceID: "ghost", Status: store.ApplicationPending}), store.ErrNotFound)
	a4 := store.ServiceApplication{ID: "a4", OrgID: "o2", ServiceID: "s1", Status: store.ApplicationPending,
		CreatedAt: now.Add(time.Second)}
	durMust(t, "other organization", s.CreateServiceApplication(ctx, a4))
	got, err := s.GetServiceApplication(ctx, "a1")
	durIs(t, "GetServiceApplication", err, nil)
	durEqual(t, "GetServiceApplication", got, a1)

	got, err = s.UpdateServiceApplication(ctx, "a1", func(a *store.ServiceApplication) error {
		a.Status, a.Reason, a.DecidedBy, a.DecidedAt, a.OrgID = store.ApplicationRejected, "no", "op", now, "o2"
		return nil
	})
	durIs(t, "UpdateServiceApplication", err, nil)
	a1.Status, a1.Reason, a1.DecidedBy, a1.DecidedAt = store.ApplicationRejected, "no", "op", now
	durEqual(t, "decided", got, a1)
	a5 := store.ServiceApplication{ID: "a5", OrgID: "o1", ServiceID: "s1", Status: store.ApplicationPending,
		CreatedAt: now.Add(2 * time.Second)}
	durIs(t, "apply again after a rejection", s.CreateServiceApplication(ctx, a5), nil)

	for _, c := range []struct {
		f    store.ApplicationFilter
		want []store.ServiceApplication
	}{
		{store.ApplicationFilter{}, []store.ServiceApplication{a5, a4, a1}},
		{store.ApplicationFilter{OrgID: "o1"}, []store.ServiceApplication{a5, a1}},
		{store.ApplicationFilter{Status: store.ApplicationPending}, []store.ServiceApplication{a5, a4}},
		{store.ApplicationFilter{OrgID: "o1", Status: store.ApplicationRejected}, []store.ServiceApplication{a1}},
	} {
		got, err := s.ListServiceApplications(ctx, c.f)
		durIs(t, "ListServiceApplications", err, nil)
		durEqual(t, fmt.Sprintf("ListServiceApplications %+v", c.f), got, c.want)
	}
}

func durAuditOrgHistory(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 3)
	durOrgWith(t, s, now, "o1", 2, 1) // u1, u2; u3 is elsewhere
	var ids []int64
	for _, e := range []store.AuditEvent{
		{Kind: "org.member.role_changed", ActorID: "u1", UserID: "u2", OrgID: "o1"}, // 0
		{Kind: "signin.success", ActorID: "u2", UserID: "u2"},                       // 1: member sign-in
		{Kind: "password.changed", ActorID: "u2", UserID: "u2"},                     // 2: not a member kind
		{Kind: "signin.success", ActorID: "u3", UserID: "u3"},                       // 3: not a member
		{Kind: "org.member.removed", ActorID: "u3", UserID: "u1", OrgID: "o2"},      // 4: other org
		{Kind: "org.invitation.created", ActorID: "u1", OrgID: "o1"},                // 5
	} {
		id, err := s.AppendAudit(ctx, e)
		durMust(t, "audit", err)
		ids = append(ids, id)
	}
	list := func(f store.AuditFilter) (out []int64) {
		t.Helper()
		evs, err := s.ListAudit(ctx, f)
		durMust(t, "ListAudit", err)
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	member := []string{"signin.success"}
	durEqual(t, "organization only", list(store.AuditFilter{OrgID: "o1"}), []int64{ids[5], ids[0]})
	durEqual(t, "with members' sign-ins", list(store.AuditFilter{OrgID: "o1", MemberKinds: member}), []int64{ids[5], ids[1], ids[0]})
	durEqual(t, "involving u2", list(store.AuditFilter{OrgID: "o1", MemberKinds: member, Involving: "u2"}), []int64{ids[1], ids[0]})
	durEqual(t, "involving u1 as actor", list(store.AuditFilter{OrgID: "o1", Involving: "u1"}), []int64{ids[5], ids[0]})
	durEqual(t, "kinds within", list(store.AuditFilter{OrgID: "o1", MemberKinds: member, Kinds: member}), []int64{ids[1]})
	durEqual(t, "by actor u3", list(store.AuditFilter{ActorID: "u3"}), []int64{ids[4], ids[3]})
	durEqual(t, "by actor u2, not about them", list(store.AuditFilter{ActorID: "u1", UserID: "u2"}), []int64{ids[0]})
}

// Two administrators demote themselves and each other 200 times at once:
// exactly one administrator is left.
func durContentionLastAdministrator(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 2)
	durOrgWith(t, s, now, "o1", 2, 2)
	const n = 200
	durWarm(s, n)
	errs := Together(n, func(i int) error {
		user := []string{"u1", "u2"}[i%2]
		if i%4 < 2 {
			_, err := s.SetMembershipRole(ctx, user, "o1", store.RoleNormal)
			return err
		}
		_, err := s.SetMembershipRole(ctx, user, "o1", store.RoleVisitor)
		return err
	})
	ok, refused := durCount(t, "SetMembershipRole", errs, store.ErrLastAdministrator)
	if got := durAdmins(t, s, "o1"); got != 1 {
		t.Fatalf("%d concurrent demotions (%d succeeded, %d refused): %d administrators left, want 1", n, ok, refused, got)
	}
	if ok+refused != n || refused == 0 {
		t.Fatalf("%d succeeded, %d refused", ok, refused)
	}
}

// Two administrators remove each other at once, many times over: one is
// always left.
func durContentionRemoveAdministrators(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 2)
	const rounds = 20
	for r := range rounds {
		org := fmt.Sprintf("o%d", r)
		durOrgWith(t, s, now, org, 2, 2)
		errs := Together(2, func(i int) error {
			_, err := s.RemoveMembership(ctx, []string{"u1", "u2"}[i], org)
			return err
		})
		ok, refused := durCount(t, "RemoveMembership", errs, store.ErrLastAdministrator)
		if ok != 1 || refused != 1 || durAdmins(t, s, org) != 1 {
			t.Fatalf("round %d: %d removed, %d refused, %d administrators left; want 1, 1, 1", r, ok, refused, durAdmins(t, s, org))
		}
	}
}
