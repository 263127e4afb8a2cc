package account

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"

	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/store"
)

// MaxEmailLen is the longest address accepted (RFC 5321 path limit).
const MaxEmailLen = 254

type emailData struct {
	page
	Email, NewEmail string
	Error           *formError
}

func (h *Handler) renderEmail(w http.ResponseWriter, r *http.Request, v hub.Viewer, newEmail string, fe *formError) {
	status := http.StatusOK
	if fe != nil {
		status = fe.Status
	}
	h.d.Renderer.Render(w, r, status, "account_email", v.P, "account.email.title",
		emailData{page: page{Nav: nav("")}, Email: v.User.Email, NewEmail: newEmail, Error: fe})
}

func (h *Handler) emailPage(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	h.renderEmail(w, r, v, "", nil)
}

// checkEmail returns the message key of what is wrong with a new address.
func checkEmail(current, next string) string {
	if next == "" {
		return "account.email.required"
	}
	if a, err := mail.ParseAddress(next); err != nil || a.Address != next || len(next) > MaxEmailLen {
		return "account.email.invalid"
	}
	if store.FoldEmail(next) == store.FoldEmail(current) {
		return "account.email.same"
	}
	return ""
}

// postEmail starts an email change. The current password is asked for
// (the address is how a password is reset, so a borrowed session must
// not be able to move it). Nothing changes on the account: a link goes to
// the new address and a notice to the old one, queued with the audit
// event in one transaction, and the address changes when the link is
// opened. Whether the new address belongs to someone else is not
// revealed here unless the verification step refuses it outright.
func (h *Handler) postEmail(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	ctx := r.Context()
	next := strings.TrimSpace(r.PostFormValue("email"))
	if key := checkEmail(v.User.Email, next); key != "" {
		h.renderEmail(w, r, v, next, &formError{http.StatusUnprocessableEntity, "email", v.P.T(key)})
		return
	}
	fe, err := h.checkCurrent(r, v, r.PostFormValue("current"), KindEmailChangeFailed)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	if fe != nil {
		h.renderEmail(w, r, v, next, fe)
		return
	}
	err = h.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := h.d.StartEmailChange(ctx, tx, v.User, next, h.mailLang(v)); err != nil {
			return fmt.Errorf("start email verification: %w", err)
		}
		_, err := tx.AppendAudit(ctx, h.event(r, v, KindEmailChangeRequested, map[string]string{"from": v.User.Email, "to": next}))
		return err
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		h.renderEmail(w, r, v, next, &formError{http.StatusUnprocessableEntity, "email", v.P.T("account.email.unavailable")})
		return
	}
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	back(w, r, "/account", "email")
}
