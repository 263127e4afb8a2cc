package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// States of the invitation page.
const (
	acceptBad    = "bad"    // the link cannot be used: Message says why
	acceptWrong  = "wrong"  // signed in as another account
	acceptJoin   = "join"   // signed in as the invited address: a button
	acceptSignIn = "signin" // the address has an account: sign in first
	acceptCreate = "create" // a new person: name and password
	acceptDone   = "done"
)

type acceptData struct {
	State     string
	Message   string // key
	MsgArgs   []any
	Token     string
	OrgName   string
	RoleKey   string
	Email     string
	Name      string
	SignInURL string
	Created   bool
	MinLength int
}

// badLinks are the pages of links that cannot be used.
var badLinks = map[apperr.Code]string{
	apperr.InvitationInvalid:      "console.accept.invalid",
	apperr.InvitationExpired:      "console.accept.expired",
	apperr.InvitationUsed:         "console.accept.used",
	apperr.InvitationCancelled:    "console.accept.cancelled",
	apperr.InvitationWrongAccount: "console.accept.wrong",
}

// signedIn returns the browser's signed-in account, if any (as the hub's
// guard would accept it), without sending anyone anywhere.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (*store.User, error) {
	s, live, err := h.d.Sessions.Current(r.Context(), w, r)
	if err != nil || !live || s.UserID == "" {
		return nil, err
	}
	u, err := h.d.Store.GetUser(r.Context(), s.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || session.Stale(s, u))) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func (h *Handler) renderAccept(w http.ResponseWriter, r *http.Request, p *i18n.Printer, status int, d acceptData) {
	h.d.Renderer.Render(w, r, status, "console_accept", p, "console.accept.title", d)
}

// acceptRefused renders the page of an unusable link or a wrong account
// (nothing changed), or the error page for anything else.
func (h *Handler) acceptRefused(w http.ResponseWriter, r *http.Request, p *i18n.Printer, err error) bool {
	key, ok := badLinks[apperr.CodeOf(err)]
	if !ok {
		return false
	}
	st := acceptBad
	if apperr.CodeOf(err) == apperr.InvitationWrongAccount {
		st = acceptWrong
	}
	h.renderAccept(w, r, p, apperr.HTTPStatus(apperr.CodeOf(err)), acceptData{State: st, Message: key})
	return true
}

// accept is the page an invitation link opens: it changes nothing.
func (h *Handler) accept(w http.ResponseWriter, r *http.Request) {
	h.showAccept(w, r, r.URL.Query().Get("token"), http.StatusOK, "", nil)
}

func (h *Handler) showAccept(w http.ResponseWriter, r *http.Request, token string, status int, errKey string, errArgs []any) {
	u, err := h.signedIn(w, r)
	p := h.printer(r, u)
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	inv, err := h.d.Orgs.OpenInvitation(r.Context(), token)
	if err != nil {
		if !h.acceptRefused(w, r, p, err) {
			h.d.Renderer.Error(w, r, p, err, "")
		}
		return
	}
	d := acceptData{Token: token, OrgName: inv.Organization.Name, RoleKey: "role." + string(inv.Invitation.Role),
		Email: inv.Invitation.Email, Message: errKey, MsgArgs: errArgs,
		MinLength: max(h.d.MinLength, pwpolicy.DefaultMinLength)}
	switch {
	case u != nil && store.FoldEmail(u.Email) != store.FoldEmail(inv.Invitation.Email):
		h.renderAccept(w, r, p, http.StatusForbidden, acceptData{State: acceptWrong, Message: "console.accept.wrong"})
		return
	case u != nil:
		d.State = acceptJoin
	case inv.AccountExists:
		d.State = acceptSignIn
		d.SignInURL = "/signin?return=" + url.QueryEscape(orgs.AcceptPath+"?token="+url.QueryEscape(token))
	default:
		d.State, d.Name = acceptCreate, r.PostFormValue("name")
	}
	h.renderAccept(w, r, p, status, d)
}

// postAccept accepts: the signed-in invitee joins, or a new person's
// account is created (email verified) and joins. The service decides;
// every refusal leaves everything as it was.
func (h *Handler) postAccept(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	u, err := h.signedIn(w, r)
	p := h.printer(r, u)
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	var na *orgs.NewAccount
	signedIn := ""
	if u != nil {
		signedIn = u.ID
	} else {
		pw := r.PostFormValue("password")
		if pw != r.PostFormValue("confirm") {
			h.showAccept(w, r, token, http.StatusBadRequest, "console.accept.mismatch", nil)
			return
		}
		// The sign-in hashes the normalized form: so is the new password.
		na = &orgs.NewAccount{Name: r.PostFormValue("name"), Password: pwpolicy.Normalize(pw), Locale: p.Lang()}
	}
	res, err := h.d.Orgs.AcceptInvitation(r.Context(), token, signedIn, na)
	if err != nil {
		if h.acceptRefused(w, r, p, err) {
			return
		}
		var pe *pwpolicy.Error
		switch {
		case errors.As(err, &pe):
			h.showAccept(w, r, token, http.StatusBadRequest, pe.Key, pe.Args)
		case apperr.CodeOf(err) == apperr.Invalid:
			h.showAccept(w, r, token, http.StatusBadRequest, "console.accept.name", nil)
		case apperr.CodeOf(err) == apperr.Unauthorized || apperr.CodeOf(err) == apperr.Conflict:
			h.showAccept(w, r, token, http.StatusConflict, "console.accept.signin.first", nil)
		default:
			h.d.Renderer.Error(w, r, p, err, "")
		}
		return
	}
	h.renderAccept(w, r, p, http.StatusOK, acceptData{State: acceptDone, Created: res.Created})
}

// Msg is the page's message in p's language.
func (d acceptData) Msg(p *i18n.Printer) string { return p.T(d.Message, d.MsgArgs...) }
