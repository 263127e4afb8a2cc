package adminapi

import (
	"net/http"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Invitations of an organization, through the organizations service: a
// single-use link valid orgs.InvitationTTL, mailed through the outbox in
// the transaction that creates (or resends) it.

// listInvitations lists an organization's invitations oldest first;
// ?status= keeps one status (pending, accepted, expired, cancelled).
func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	status := orgs.InvitationStatus(r.URL.Query().Get("status"))
	switch status {
	case "", orgs.InvitationPending, orgs.InvitationAccepted, orgs.InvitationExpired, orgs.InvitationCancelled:
	default:
		return errInvalid("status: one of pending, accepted, expired, cancelled")
	}
	ctx, orgID := r.Context(), r.PathValue("id")
	if _, err := a.cfg.Store.GetOrganization(ctx, orgID); err != nil {
		return notFound(err, "organization")
	}
	is, err := a.cfg.Orgs.ListInvitations(ctx, ActorOf(ctx), orgID, status == orgs.InvitationPending)
	if err != nil {
		return err
	}
	var keep []orgs.Invitation
	for _, i := range is {
		if status == "" || i.Status == status {
			keep = append(keep, i)
		}
	}
	writeJSON(w, http.StatusOK, paginate(keep, p, func(i orgs.Invitation) string { return timeKey(i.CreatedAt, i.ID) }, invitationView), "")
	return nil
}

func (a *API) getInvitation(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	i, err := a.cfg.Orgs.GetInvitation(ctx, ActorOf(ctx), r.PathValue("id"), r.PathValue("invitation_id"))
	if err != nil {
		return err
	}
	v := invitationView(i)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// InvitationCreate is the body of POST /organizations/{id}/invitations.
// Locale is the mail's language when the address has no account yet
// ("en" or "ja"; an account's own setting wins).
type InvitationCreate struct {
	Email  string `json:"email"`
	Role   string `json:"role"`
	Locale string `json:"locale,omitempty"`
}

func (a *API) invite(w http.ResponseWriter, r *http.Request) error {
	var in InvitationCreate
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx, orgID := r.Context(), r.PathValue("id")
	i, err := a.cfg.Orgs.Invite(ctx, ActorOf(ctx), orgID, in.Email, store.Role(in.Role), in.Locale)
	if err != nil {
		return notFound(err, "organization")
	}
	v := invitationView(i)
	w.Header().Set("Location", Prefix+"/organizations/"+orgID+"/invitations/"+i.ID)
	writeJSON(w, http.StatusCreated, v, etagOf(v))
	return nil
}

// decideInvitation locks the invitation, checks If-Match against it and
// lets the service resend or cancel it, in one transaction.
func (a *API) decideInvitation(w http.ResponseWriter, r *http.Request, do func(svc *orgs.Service, orgID, id string) (orgs.Invitation, error)) error {
	ctx, orgID, id := r.Context(), r.PathValue("id"), r.PathValue("invitation_id")
	var out orgs.Invitation
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if _, err := tx.UpdateInvitation(ctx, id, func(*store.Invitation) error { return nil }); err != nil {
			return notFound(err, "invitation")
		}
		cur, err := svc.GetInvitation(ctx, ActorOf(ctx), orgID, id)
		if err != nil {
			return err
		}
		if err := requireMatch(r, invitationView(cur)); err != nil {
			return err
		}
		out, err = do(svc, orgID, id)
		return err
	})
	if err != nil {
		return err
	}
	v := invitationView(out)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// resendInvitation mails the invitation again with a new link (the old
// one stops working) valid orgs.InvitationTTL from now.
func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request) error {
	return a.decideInvitation(w, r, func(svc *orgs.Service, orgID, id string) (orgs.Invitation, error) {
		return svc.ResendInvitation(r.Context(), ActorOf(r.Context()), orgID, id, "")
	})
}

// cancelInvitation cancels an invitation that was not accepted.
func (a *API) cancelInvitation(w http.ResponseWriter, r *http.Request) error {
	return a.decideInvitation(w, r, func(svc *orgs.Service, orgID, id string) (orgs.Invitation, error) {
		return svc.CancelInvitation(r.Context(), ActorOf(r.Context()), orgID, id)
	})
}
