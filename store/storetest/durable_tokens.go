package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

func durInvitations(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 1)
	durMust(t, "org o1", s.CreateOrganization(ctx, durOrg("o1", now)))
	durMust(t, "org o2", s.CreateOrganization(ctx, durOrg("o2", now)))

	i1 := store.Invitation{ID: "inv1", TokenHash: "h1", OrgID: "o1", Email: "New@Example.com", Role: store.RoleNormal,
		InvitedBy: "u1", CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour)}
	i2 := store.Invitation{ID: "inv2", TokenHash: "h2", OrgID: "o1", Email: "v@example.com", Role: store.RoleVisitor,
		InvitedBy: "u1", CreatedAt: now.Add(time.Second), ExpiresAt: now.Add(time.Hour)}
	i3 := store.Invitation{ID: "inv3", TokenHash: "h3", OrgID: "o2", Email: "x@example.com", Role: store.RoleAdministrator,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, i := range []store.Invitation{i2, i1, i3} {
		durIs(t, "CreateInvitation "+i.ID, s.CreateInvitation(ctx, i), nil)
	}
	durIs(t, "CreateInvitation same ID", s.CreateInvitation(ctx, i1), store.ErrAlreadyExists)
	durIs(t, "CreateInvitation missing org", s.CreateInvitation(ctx,
		store.Invitation{ID: "inv4", OrgID: "ghost", Email: "a@b.c", Role: store.RoleNormal}), store.ErrNotFound)
	got, err := s.GetInvitation(ctx, "inv1")
	durIs(t, "GetInvitation", err, nil)
	durEqual(t, "GetInvitation", got, i1)
	_, err = s.GetInvitation(ctx, "nope")
	durIs(t, "GetInvitation missing", err, store.ErrNotFound)
	list, err := s.ListInvitationsByOrg(ctx, "o1")
	durIs(t, "ListInvitationsByOrg", err, nil)
	durEqual(t, "ListInvitationsByOrg (oldest first)", list, []store.Invitation{i1, i2})

	at := now.Add(time.Minute)
	got, err = s.AcceptInvitation(ctx, "inv1", "u1", at)
	durIs(t, "AcceptInvitation", err, nil)
	i1.AcceptedAt, i1.AcceptedBy = at, "u1"
	durEqual(t, "AcceptInvitation result", got, i1)
	_, err = s.AcceptInvitation(ctx, "inv1", "u1", at.Add(time.Second))
	durIs(t, "AcceptInvitation again", err, store.ErrAlreadyUsed)
	got, _ = s.GetInvitation(ctx, "inv1")
	durEqual(t, "accepted once", got.AcceptedAt, at)

	// Expired at ExpiresAt exactly.
	_, err = s.AcceptInvitation(ctx, "inv2", "u1", i2.ExpiresAt)
	durIs(t, "AcceptInvitation expired", err, store.ErrNotFound)
	got, _ = s.GetInvitation(ctx, "inv2")
	durEqual(t, "expired invitation unchanged", got, i2)
	_, err = s.AcceptInvitation(ctx, "inv2", "u1", i2.ExpiresAt.Add(-time.Microsecond))
	durIs(t, "AcceptInvitation just in time", err, nil)
	_, err = s.AcceptInvitation(ctx, "nope", "u1", at)
	durIs(t, "AcceptInvitation missing", err, store.ErrNotFound)

	durIs(t, "DeleteInvitation", s.DeleteInvitation(ctx, "inv3"), nil)
	durIs(t, "DeleteInvitation again", s.DeleteInvitation(ctx, "inv3"), store.ErrNotFound)
	_, err = s.GetInvitation(ctx, "inv3")
	durIs(t, "GetInvitation deleted", err, store.ErrNotFound)
}

func durOneTimeTokens(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 2)

	reset := store.OneTimeToken{Hash: "t1", Kind: store.TokenPasswordReset, UserID: "u1",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	verify := store.OneTimeToken{Hash: "t2", Kind: store.TokenVerifyEmail, UserID: "u1", Email: "New@Example.com",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	durIs(t, "CreateOneTimeToken", s.CreateOneTimeToken(ctx, reset), nil)
	durIs(t, "CreateOneTimeToken", s.CreateOneTimeToken(ctx, verify), nil)
	durIs(t, "CreateOneTimeToken same hash", s.CreateOneTimeToken(ctx, reset), store.ErrAlreadyExists)
	durIs(t, "CreateOneTimeToken missing user", s.CreateOneTimeToken(ctx,
		store.OneTimeToken{Hash: "t9", Kind: store.TokenPasswordReset, UserID: "ghost"}), store.ErrNotFound)

	at := now.Add(time.Minute)
	_, err := s.ConsumeOneTimeToken(ctx, "t1", store.TokenVerifyEmail, at)
	durIs(t, "Consume with the wrong kind", err, store.ErrNotFound)
	_, err = s.ConsumeOneTimeToken(ctx, "nope", store.TokenPasswordReset, at)
	durIs(t, "Consume missing", err, store.ErrNotFound)
	_, err = s.ConsumeOneTimeToken(ctx, "t1", store.TokenPasswordReset, reset.ExpiresAt)
	durIs(t, "Consume at expiry", err, store.ErrNotFound)

	got, err := s.ConsumeOneTimeToken(ctx, "t1", store.TokenPasswordReset, at)
	durIs(t, "Consume", err, nil)
	reset.UsedAt = at
	durEqual(t, "Consume result", got, reset)
	_, err = s.ConsumeOneTimeToken(ctx, "t1", store.TokenPasswordReset, at)
	durIs(t, "Consume again", err, store.ErrAlreadyUsed)
	_, err = s.ConsumeOneTimeToken(ctx, "t1", store.TokenVerifyEmail, at)
	durIs(t, "Consume used, wrong kind", err, store.ErrNotFound)

	// DeleteOneTimeTokens removes the user's unused tokens of the kind only.
	more := []store.OneTimeToken{
		{Hash: "t3", Kind: store.TokenPasswordReset, UserID: "u1", ExpiresAt: now.Add(time.Hour)},
		{Hash: "t4", Kind: store.TokenPasswordReset, UserID: "u2", ExpiresAt: now.Add(time.Hour)},
	}
	for _, tok := range more {
		durMust(t, "CreateOneTimeToken "+tok.Hash, s.CreateOneTimeToken(ctx, tok))
	}
	durIs(t, "DeleteOneTimeTokens", s.DeleteOneTimeTokens(ctx, "u1", store.TokenPasswordReset), nil)
	durIs(t, "DeleteOneTimeTokens none left", s.DeleteOneTimeTokens(ctx, "u1", store.TokenPasswordReset), nil)
	_, err = s.ConsumeOneTimeToken(ctx, "t3", store.TokenPasswordReset, at)
	durIs(t, "Consume deleted", err, store.ErrNotFound)
	_, err = s.ConsumeOneTimeToken(ctx, "t1", store.TokenPasswordReset, at)
	durIs(t, "used token kept", err, store.ErrAlreadyUsed)
	got, err = s.ConsumeOneTimeToken(ctx, "t2", store.TokenVerifyEmail, at)
	durIs(t, "other kind kept", err, nil)
	durEqual(t, "verify token email", got.Email, "New@Example.com")
	_, err = s.ConsumeOneTimeToken(ctx, "t4", store.TokenPasswordReset, at)
	durIs(t, "other user's kept", err, nil)
}
