package console

import (
	"net/http"
	"net/url"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/account"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

type memberRow struct {
	orgs.Member
	RoleKey    string
	LastSignIn string // formatted; "" = none kept
	LastISO    string
	Self       bool
}

type membersData struct {
	Search            string
	Rows              []memberRow
	NextURL, FirstURL string
	Roles             []store.Role
}

// members lists the organization's members, searched and paged by the
// service (orgs.ListMembers).
func (h *Handler) members(w http.ResponseWriter, r *http.Request, q req) {
	h.renderMembers(w, r, q, http.StatusOK, "")
}

func (h *Handler) renderMembers(w http.ResponseWriter, r *http.Request, q req, status int, errKey string) {
	search, cursor := r.URL.Query().Get("q"), r.URL.Query().Get("cursor")
	if r.Method == http.MethodPost {
		search, cursor = "", ""
	}
	page, err := h.d.Orgs.ListMembers(r.Context(), q.actor(), q.org.ID, orgs.MemberQuery{Search: search, Cursor: cursor})
	if apperr.CodeOf(err) == apperr.Invalid {
		search, cursor, status, errKey = "", "", http.StatusBadRequest, "console.members.badquery"
		page, err = h.d.Orgs.ListMembers(r.Context(), q.actor(), q.org.ID, orgs.MemberQuery{})
	}
	if err != nil {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	d := membersData{Search: search, Roles: roles}
	base := "/console/" + url.PathEscape(q.org.Code) + "/members"
	if page.Next != "" {
		v := url.Values{"cursor": {page.Next}}
		if search != "" {
			v.Set("q", search)
		}
		d.NextURL = base + "?" + v.Encode()
	}
	if cursor != "" {
		d.FirstURL = base
		if search != "" {
			d.FirstURL += "?" + url.Values{"q": {search}}.Encode()
		}
	}
	for _, m := range page.Members {
		row := memberRow{Member: m, RoleKey: "role." + string(m.Role), Self: m.UserID == q.v.User.ID}
		if !m.LastSignIn.IsZero() {
			ar := account.RowOf(q.v.P, store.AuditEvent{Time: m.LastSignIn}, "", "")
			row.LastSignIn, row.LastISO = ar.Time, ar.ISO
		}
		d.Rows = append(d.Rows, row)
	}
	h.show(w, r, q, status, "members", d, errKey)
}

func (h *Handler) postRole(w http.ResponseWriter, r *http.Request, q req) {
	_, err := h.d.Orgs.ChangeRole(r.Context(), q.actor(), q.org.ID, r.PathValue("user"), store.Role(r.PostFormValue("role")))
	if err != nil {
		h.memberRefused(w, r, q, err)
		return
	}
	h.done(w, r, q, "members", "console.done.role")
}

// memberRefused shows the members list with the refusal, or the error
// page for an error that is not a refusal (403 above all).
func (h *Handler) memberRefused(w http.ResponseWriter, r *http.Request, q req, err error) {
	h.refused(w, r, q, err, "members", func(status int, key string) { h.renderMembers(w, r, q, status, key) })
}

type removeData struct {
	Member  orgs.Member
	RoleKey string
}

// removeForm is the confirmation page of a removal.
func (h *Handler) removeForm(w http.ResponseWriter, r *http.Request, q req) {
	m, err := h.d.Orgs.GetMember(r.Context(), q.actor(), q.org.ID, r.PathValue("user"))
	if err != nil {
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	h.show(w, r, q, http.StatusOK, "remove", removeData{Member: m, RoleKey: "role." + string(m.Role)}, "")
}

// postRemove removes the member; with delete_account (the administrator
// ticked it on the confirmation page) the account too, which the service
// refuses when it belongs to another organization.
func (h *Handler) postRemove(w http.ResponseWriter, r *http.Request, q req) {
	opt := orgs.RemoveOptions{DeleteAccount: r.PostFormValue("delete_account") == "1"}
	res, err := h.d.Orgs.RemoveMember(r.Context(), q.actor(), q.org.ID, r.PathValue("user"), opt)
	if err != nil {
		h.memberRefused(w, r, q, err)
		return
	}
	key := "console.done.removed"
	if res.AccountDeleted {
		key = "console.done.deleted"
	}
	h.done(w, r, q, "members", key)
}

// postMFAReset removes a member's two-step verification (mfa.Reset:
// audited, the member is mailed).
func (h *Handler) postMFAReset(w http.ResponseWriter, r *http.Request, q req) {
	if err := h.d.TwoStep.Reset(r.Context(), r.PathValue("user"), h.meta(r, q)); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			h.renderMembers(w, r, q, http.StatusConflict, "console.members.nomfa")
			return
		}
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	h.done(w, r, q, "members", "console.done.mfareset")
}
