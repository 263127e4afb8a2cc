package adminapi

import (
	"context"
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

// invitationTag is an invitation's version: its view and its link (a
// resend at the same instant changes only the link, which the view never
// shows; the tag hashes the link's hash, which reveals nothing).
func invitationTag(v Invitation, tokenHash string) string {
	return etagOf(struct {
		Invitation
		Link string
	}{v, tokenHash})
}

// readInvitation returns one of an organization's invitations and its
// version, through the service (which checks it is the organization's).
func readInvitation(r *http.Request, svc *orgs.Service, st interface {
	GetInvitation(context.Context, string) (store.Invitation, error)
}) (Invitation, string, error) {
	ctx := r.Context()
	i, err := svc.GetInvitation(ctx, ActorOf(ctx), r.PathValue("id"), r.PathValue("invitation_id"))
	if err != nil {
		return Invitation{}, "", err
	}
	rec, err := st.GetInvitation(ctx, i.ID)
	if err != nil {
		return Invitation{}, "", notFound(err, "invitation")
	}
	v := invitationView(i)
	return v, invitationTag(v, rec.TokenHash), nil
}

func (a *API) getInvitation(w http.ResponseWriter, r *http.Request) error {
	v, tag, err := readInvitation(r, a.cfg.Orgs, a.cfg.Store)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v, tag)
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
	rec, err := a.cfg.Store.GetInvitation(ctx, i.ID)
	if err != nil {
		return err
	}
	v := invitationView(i)
	w.Header().Set("Location", Prefix+"/organizations/"+orgID+"/invitations/"+i.ID)
	writeJSON(w, http.StatusCreated, v, invitationTag(v, rec.TokenHash))
	return nil
}

// decideInvitation locks the invitation, checks If-Match against it and
// lets the service resend or cancel it, in one transaction.
func (a *API) decideInvitation(w http.ResponseWriter, r *http.Request, do func(svc *orgs.Service, orgID, id string) (orgs.Invitation, error)) error {
	ctx, orgID, id := r.Context(), r.PathValue("id"), r.PathValue("invitation_id")
	var out Invitation
	var tag string
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if _, err := tx.UpdateInvitation(ctx, id, func(*store.Invitation) error { return nil }); err != nil {
			return notFound(err, "invitation")
		}
		_, cur, err := readInvitation(r, svc, tx)
		if err != nil {
			return err
		}
		if err := requireTag(r, cur); err != nil {
			return err
		}
		if _, err = do(svc, orgID, id); err != nil {
			return err
		}
		out, tag, err = readInvitation(r, svc, tx)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out, tag)
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
