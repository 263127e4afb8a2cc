package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Organization selection: which one organization a sign-in is for (the
// `org` claim). An org_hint in the request names it, for any client; a
// client registered with organization_selection "required" always gets
// one: the one chosen earlier for this request, the person's only
// entitled organization, the one remembered for the client in this
// browser session (unless prompt=select_account), or a choice on the
// chooser page.

// selectOrg returns the organization ID selected for ar ("" = none) and
// true, or answers the request itself (chooser page, refusal, error
// redirect) and returns false. a is the person's access to the client's
// service, already known to be entitled.
func (h *Handler) selectOrg(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session, c store.Client, a orgs.Access) (string, bool) {
	ctx := r.Context()
	p := h.printer(r, &ar)
	if ar.OrgHint != "" {
		o, err := orgs.ResolveHint(ctx, h.d.Directory, a, s.UserID, ar.OrgHint)
		switch {
		case errors.Is(err, orgs.ErrOrgNotMember), errors.Is(err, orgs.ErrOrgNotEntitled):
			reason, key := "org_hint: not a member", "signin.org.hint.notmember"
			if errors.Is(err, orgs.ErrOrgNotEntitled) {
				reason, key = "org_hint: organization not entitled", "signin.org.hint.notentitled"
			}
			h.audit(ctx, r, "signin.denied", s.UserID, ar.ClientID, map[string]string{"reason": reason, "org_hint": ar.OrgHint})
			h.d.Logger.WarnContext(ctx, "org_hint refused", "client_id", ar.ClientID, "reason", reason)
			h.d.Renderer.Render(w, r, http.StatusForbidden, "signin_org_refused", p, "signin.org.refused.title",
				orgRefusedData{Message: key, Code: ar.OrgHint, ClientName: c.Name})
			return "", false
		case err != nil:
			h.d.Renderer.Error(w, r, p, err, "")
			return "", false
		}
		return o.ID, true
	}
	if c.OrganizationSelection != store.OrgSelectionRequired {
		return "", true
	}
	if _, ok := a.ByID(ar.OrgID); ok && ar.OrgID != "" {
		return ar.OrgID, true // chosen on the page for this request
	}
	if len(a.Orgs) == 1 {
		return a.Orgs[0].ID, true
	}
	if !slices.Contains(ar.Prompt, "select_account") {
		if id := s.OrgChoices[c.ID]; id != "" {
			if _, ok := a.ByID(id); ok {
				return id, true
			}
		}
	}
	if slices.Contains(ar.Prompt, "none") {
		h.d.AccountSelectionRequired(w, r, ar)
		return "", false
	}
	h.d.Renderer.Render(w, r, http.StatusOK, "signin_org", p, "signin.org.title",
		orgData{AuthRequestID: ar.ID, ClientName: c.Name, Orgs: a.Orgs, Current: s.OrgChoices[c.ID]})
	return "", false
}

// access loads the client and the person's access to its service: the
// same computation as the tokens' claims (orgs.ComputeClaims).
func (h *Handler) access(ctx context.Context, clientID, userID string) (store.Client, orgs.Access, error) {
	c, err := h.d.Directory.GetClient(ctx, clientID)
	if err != nil {
		return c, orgs.Access{}, err
	}
	a, err := orgs.EntitledAccess(ctx, h.d.Directory, userID, c.ServiceID)
	return c, a, err
}

type orgData struct {
	AuthRequestID, ClientName string
	Orgs                      []orgs.OrgClaim
	Current                   string // the organization remembered for the client
}

type orgRefusedData struct {
	Message, Code, ClientName string
}

// postOrg records the organization chosen on the chooser page for the
// request and completes it. The choice must be one of the person's
// entitled organizations; the session must be one that may complete the
// request (the same rules as the sign-in's start).
func (h *Handler) postOrg(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	p := h.printer(r, &ar)
	s, live, err := h.usableSession(w, r)
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	// A session made for this request (after prompt=login, say) may
	// complete it; an older one only if it satisfies the request.
	if !live || (h.needsLogin(ar, s) && s.AuthTime.Before(ar.CreatedAt)) || ar.ClientID == "" {
		http.Redirect(w, r, "/login?authRequestID="+url.QueryEscape(ar.ID), http.StatusSeeOther)
		return
	}
	_, a, err := h.access(ctx, ar.ClientID, s.UserID)
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	orgID := r.PostFormValue("org")
	if _, ok := a.ByID(orgID); !ok || orgID == "" {
		h.d.Renderer.Error(w, r, p, apperr.New(apperr.Invalid, "not a selectable organization"), "error.badrequest")
		return
	}
	ar, err = h.d.AuthRequests.UpdateAuthRequest(ctx, ar.ID, func(x *store.AuthRequest) error {
		if x.Done {
			return apperr.New(apperr.Invalid, "auth request already finished")
		}
		x.OrgID = orgID
		return nil
	})
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "error.expired")
		return
	}
	h.finish(w, r, ar, s)
}
