package console

import (
	"net/http"

	"github.com/customerhub/hubid/idp/account"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

type invitationRow struct {
	orgs.Invitation
	RoleKey, Expires, ExpiresISO string
}

type invitationsData struct {
	Email string
	Role  store.Role
	Roles []store.Role
	Rows  []invitationRow
}

// invitations lists the pending invitations beside the invite form.
func (h *Handler) invitations(w http.ResponseWriter, r *http.Request, q req) {
	h.renderInvitations(w, r, q, http.StatusOK, invitationsData{Role: store.RoleNormal}, "")
}

func (h *Handler) renderInvitations(w http.ResponseWriter, r *http.Request, q req, status int, d invitationsData, errKey string) {
	invs, err := h.d.Orgs.ListInvitations(r.Context(), q.actor(), q.org.ID, true)
	if err != nil {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	d.Roles = roles
	for _, i := range invs {
		t := account.RowOf(q.v.P, store.AuditEvent{Time: i.ExpiresAt}, "", "")
		d.Rows = append(d.Rows, invitationRow{Invitation: i, RoleKey: "role." + string(i.Role), Expires: t.Time, ExpiresISO: t.ISO})
	}
	h.show(w, r, q, status, "invitations", d, errKey)
}

func (h *Handler) invitationRefused(w http.ResponseWriter, r *http.Request, q req, d invitationsData, err error) {
	h.refused(w, r, q, err, "invitations", func(status int, key string) { h.renderInvitations(w, r, q, status, d, key) })
}

// postInvite invites an address with an account type; the mail goes in
// the inviter's language unless the invitee has an account with one.
func (h *Handler) postInvite(w http.ResponseWriter, r *http.Request, q req) {
	d := invitationsData{Email: r.PostFormValue("email"), Role: store.Role(r.PostFormValue("role"))}
	_, err := h.d.Orgs.Invite(r.Context(), q.actor(), q.org.ID, d.Email, d.Role, q.v.P.Lang())
	if err != nil {
		h.invitationRefused(w, r, q, d, err)
		return
	}
	h.done(w, r, q, "invitations", "console.done.invited")
}

func (h *Handler) postResend(w http.ResponseWriter, r *http.Request, q req) {
	if _, err := h.d.Orgs.ResendInvitation(r.Context(), q.actor(), q.org.ID, r.PathValue("id"), q.v.P.Lang()); err != nil {
		h.invitationRefused(w, r, q, invitationsData{Role: store.RoleNormal}, err)
		return
	}
	h.done(w, r, q, "invitations", "console.done.resent")
}

func (h *Handler) postCancel(w http.ResponseWriter, r *http.Request, q req) {
	if _, err := h.d.Orgs.CancelInvitation(r.Context(), q.actor(), q.org.ID, r.PathValue("id")); err != nil {
		h.invitationRefused(w, r, q, invitationsData{Role: store.RoleNormal}, err)
		return
	}
	h.done(w, r, q, "invitations", "console.done.cancelled")
}
