package adminapi

import (
	"net/http"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Memberships of an organization, through the organizations service: the
// last administrator can be neither demoted nor removed, every change is
// audited, and a removal ends the person's tokens for services the
// organization was their only entitlement to at their next refresh.

// listMembers pages an organization's members by email (?q= searches
// names and emails); ?role= keeps one account type on each page.
func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	role := store.Role(r.URL.Query().Get("role"))
	if role != "" && !role.Valid() {
		return errInvalid("role: one of administrator, normal, visitor")
	}
	ctx, orgID := r.Context(), r.PathValue("id")
	if _, err := a.cfg.Store.GetOrganization(ctx, orgID); err != nil {
		return notFound(err, "organization")
	}
	pg, err := a.cfg.Orgs.ListMembers(ctx, ActorOf(ctx), orgID, orgs.MemberQuery{Search: r.URL.Query().Get("q"), Cursor: p.after, Limit: p.limit})
	if err != nil {
		return err
	}
	out := []Member{}
	for _, m := range pg.Members {
		if role == "" || m.Role == role {
			out = append(out, memberView(orgID, m))
		}
	}
	writeJSON(w, http.StatusOK, servicePage(out, pg.Next), "")
	return nil
}

func (a *API) getMember(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	m, err := a.cfg.Orgs.GetMember(ctx, ActorOf(ctx), r.PathValue("id"), r.PathValue("user_id"))
	if err != nil {
		return notFound(err, "member")
	}
	v := memberView(r.PathValue("id"), m)
	writeJSON(w, http.StatusOK, v, memberTag(v))
	return nil
}

// MembershipCreate is the body of POST /organizations/{id}/memberships:
// an existing account joins with an account type (invite people without
// an account instead).
type MembershipCreate struct {
	UserID string `json:"user_id"`
	Role   string `json:"role"`
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request) error {
	var in MembershipCreate
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx, orgID := r.Context(), r.PathValue("id")
	var out Member
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if _, err := svc.AddMember(ctx, ActorOf(ctx), orgID, in.UserID, store.Role(in.Role)); err != nil {
			return err
		}
		m, err := svc.GetMember(ctx, ActorOf(ctx), orgID, in.UserID)
		out = memberView(orgID, m)
		return err
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/organizations/"+orgID+"/memberships/"+in.UserID)
	writeJSON(w, http.StatusCreated, out, memberTag(out))
	return nil
}

// guardMember locks the organization (membership changes of one
// organization then run one after the other) and checks If-Match against
// the membership.
func guardMember(r *http.Request, tx store.Durable, svc *orgs.Service, orgID, userID string) error {
	if err := lockOrg(r, tx, orgID); err != nil {
		return err
	}
	m, err := svc.GetMember(r.Context(), ActorOf(r.Context()), orgID, userID)
	if err != nil {
		return notFound(err, "member")
	}
	v := memberView(orgID, m)
	return requireTag(r, memberTag(v))
}

// RoleChange is the body of PATCH /organizations/{id}/memberships/{user_id}.
type RoleChange struct {
	Role string `json:"role"`
}

func (a *API) changeRole(w http.ResponseWriter, r *http.Request) error {
	var in RoleChange
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx, orgID, userID := r.Context(), r.PathValue("id"), r.PathValue("user_id")
	var out Member
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if err := guardMember(r, tx, svc, orgID, userID); err != nil {
			return err
		}
		if _, err := svc.ChangeRole(ctx, ActorOf(ctx), orgID, userID, store.Role(in.Role)); err != nil {
			return err
		}
		m, err := svc.GetMember(ctx, ActorOf(ctx), orgID, userID)
		out = memberView(orgID, m)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out, memberTag(out))
	return nil
}

// removeMember removes a membership; ?delete_account=true also deletes
// the account when it belongs to no other organization (409 otherwise,
// and nothing changes).
func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	del, err := boolParam(r, "delete_account")
	if err != nil {
		return err
	}
	ctx, orgID, userID := r.Context(), r.PathValue("id"), r.PathValue("user_id")
	err = a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if err := guardMember(r, tx, svc, orgID, userID); err != nil {
			return err
		}
		_, err := svc.RemoveMember(ctx, ActorOf(ctx), orgID, userID, orgs.RemoveOptions{DeleteAccount: del})
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listUserMemberships(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.cfg.Store.GetUser(r.Context(), id); err != nil {
		return notFound(err, "user")
	}
	ms, err := a.cfg.Store.ListMembershipsByUser(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paginate(ms, p, func(m store.Membership) string { return m.OrgID }, membershipView), "")
	return nil
}
