package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/httpx"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

type resetData struct {
	Token, Email string
	Error        string // translated
	MinLength    int
}

// minLength is the policy's effective minimum, for the hint.
func (h *Handler) minLength() int { return max(h.d.Policy.MinLength, pwpolicy.DefaultMinLength) }

// resetPage shows the new-password form for a usable link, without using
// the link up.
func (h *Handler) resetPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	hash, ok := tokenHash(token)
	if !ok {
		h.badResetLink(w, r, h.d.Guard.Printer(r, nil), fmt.Errorf("recovery: malformed reset link: %w", store.ErrNotFound))
		return
	}
	_, u, err := h.peek(r.Context(), hash, store.TokenPasswordReset)
	if err != nil {
		h.badResetLink(w, r, h.d.Guard.Printer(r, nil), err)
		return
	}
	h.renderReset(w, r, h.d.Guard.Printer(r, &u), http.StatusOK, resetData{Token: token, Email: u.Email})
}

func (h *Handler) renderReset(w http.ResponseWriter, r *http.Request, p *i18n.Printer, status int, d resetData) {
	d.MinLength = h.minLength()
	h.d.Renderer.Render(w, r, status, "recovery_reset", p, "recovery.reset.title", d)
}

// badResetLink renders the page for an expired, tampered or used reset
// link, or the error page for a storage failure.
func (h *Handler) badResetLink(w http.ResponseWriter, r *http.Request, p *i18n.Printer, err error) {
	var msg string
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		msg = p.T("recovery.link.used")
	case errors.Is(err, store.ErrNotFound):
		msg = p.T("recovery.link.expired", int(ResetTTL.Minutes()))
	default:
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	h.d.Logger.InfoContext(r.Context(), "unusable reset link", slog.Any("err", err))
	h.d.Renderer.Render(w, r, http.StatusGone, "recovery_link", p, "recovery.link.title",
		linkData{Message: msg, Again: "/forgot", AgainKey: "recovery.link.again", RequestID: httpx.RequestID(r.Context())})
}

// postReset sets the new password. The link is checked first without
// using it, so that a refused password leaves it usable; the password is
// hashed outside any transaction; then one transaction uses the link up
// and makes every change, and the sessions are ended after it commits.
func (h *Handler) postReset(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token, pw, confirm := r.PostFormValue("token"), r.PostFormValue("password"), r.PostFormValue("confirm")
	hash, ok := tokenHash(token)
	if !ok {
		h.badResetLink(w, r, h.d.Guard.Printer(r, nil), fmt.Errorf("recovery: malformed reset link: %w", store.ErrNotFound))
		return
	}
	_, u, err := h.peek(ctx, hash, store.TokenPasswordReset)
	if err != nil {
		h.badResetLink(w, r, h.d.Guard.Printer(r, nil), err)
		return
	}
	p := h.d.Guard.Printer(r, &u)
	form := resetData{Token: token, Email: u.Email}
	if pw != confirm {
		form.Error = p.T("recovery.reset.mismatch")
		h.renderReset(w, r, p, http.StatusBadRequest, form)
		return
	}
	if err := h.d.Policy.Check(pw, u.Email, u.Name); err != nil {
		var pe *pwpolicy.Error
		if !errors.As(err, &pe) {
			h.d.Renderer.Error(w, r, p, fmt.Errorf("recovery: password policy: %w", err), "")
			return
		}
		form.Error = p.T(pe.Key, pe.Args...)
		h.renderReset(w, r, p, http.StatusBadRequest, form)
		return
	}
	encoded, err := h.d.Hasher.Hash(pwpolicy.Normalize(pw))
	if err != nil {
		h.d.Renderer.Error(w, r, p, apperr.Wrap(apperr.Internal, "hash password", err), "")
		return
	}
	m := h.metaOf(r)
	u, err = h.reset(ctx, hash, u.ID, encoded, m, p)
	if err != nil {
		h.badResetLink(w, r, p, err)
		return
	}
	if err := h.endSessions(ctx, u, m); err != nil {
		h.d.Sessions.Clear(w)
		h.d.Renderer.Error(w, r, p, apperr.Wrap(apperr.Internal, "end sessions after a password reset", err), "recovery.partial")
		return
	}
	h.d.Sessions.Clear(w)
	http.Redirect(w, r, "/reset/done", http.StatusSeeOther)
}

// reset is the one transaction of a password reset: it uses the link up,
// sets the password, clears the second factor, writes the audit events and
// queues the notice. userID is the owner seen when the password was
// checked; a link that now belongs to someone else counts as expired.
func (h *Handler) reset(ctx context.Context, hash, userID, encoded string, m meta, p *i18n.Printer) (store.User, error) {
	var u store.User
	err := h.d.Directory.InTx(ctx, func(tx store.Durable) error {
		now := h.d.Now()
		_, owner, err := consume(ctx, tx, hash, store.TokenPasswordReset, now)
		if err != nil {
			return err
		}
		if owner.ID != userID {
			return fmt.Errorf("recovery: reset link changed owner: %w", store.ErrNotFound)
		}
		u, err = tx.UpdateUser(ctx, userID, func(u *store.User) error {
			u.PasswordHash, u.PasswordChangedAt, u.UpdatedAt = encoded, now, now
			return nil
		})
		if err != nil {
			return fmt.Errorf("recovery: set password: %w", err)
		}
		if err := tx.DeleteOneTimeTokens(ctx, userID, store.TokenPasswordReset); err != nil {
			return fmt.Errorf("recovery: delete other reset links: %w", err)
		}
		if err := h.audit(ctx, tx, AuditReset, u.ID, u, m, nil); err != nil {
			return err
		}
		cleared, err := mfa.Remove(ctx, tx, userID)
		if err != nil {
			return fmt.Errorf("recovery: clear two-step verification: %w", err)
		}
		if cleared {
			// The sign-in finds this event and offers setup again
			// (mfa.Service.ShouldOffer); the person is told by mail.
			if err := h.audit(ctx, tx, AuditMFACleared, u.ID, u, m, map[string]string{"reason": AuditReset}); err != nil {
				return err
			}
			if err := h.send(ctx, tx, mail.KindMFARemoved, h.mailLang(u, p.Tag), u.Email, mail.NameData{Name: u.Name}); err != nil {
				return err
			}
		}
		return h.send(ctx, tx, mail.KindPasswordResetDone, h.mailLang(u, p.Tag), u.Email, mail.NameData{Name: u.Name})
	})
	return u, err
}

// endSessions ends every browser session of u (and queues their
// back-channel logouts), then records how many were ended. It goes on
// after a failure and reports all of them.
func (h *Handler) endSessions(ctx context.Context, u store.User, m meta) error {
	ss, err := h.d.Sessions.List(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("recovery: list sessions: %w", err)
	}
	var errs []error
	ended := 0
	for _, s := range ss {
		if err := h.d.EndSession(ctx, s.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		ended++
	}
	if ended > 0 {
		err := h.audit(ctx, h.d.Directory, AuditSessionsEnded, u.ID, u, m,
			map[string]string{"reason": AuditReset, "count": strconv.Itoa(ended)})
		if err != nil {
			h.d.Logger.WarnContext(ctx, "audit", slog.Any("err", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("recovery: end %d of %d sessions: %w", len(errs), len(ss), errors.Join(errs...))
	}
	return nil
}

// resetDone says what the reset did and leads on: back to the sign-in the
// person was in when they asked for the link (ReturnCookie), while it is
// pending, else to the hub's sign-in.
func (h *Handler) resetDone(w http.ResponseWriter, r *http.Request) {
	ps, ok := h.returnTo(w, r)
	d := struct {
		Next, Service string
		Resumed       bool
	}{Next: "/signin"}
	if ok {
		d.Next, d.Service, d.Resumed = ps.Link(), ps.Service, true
	}
	h.d.Renderer.Render(w, r, http.StatusOK, "recovery_done", h.printer(r, ps, ok), "recovery.done.title", d)
}
