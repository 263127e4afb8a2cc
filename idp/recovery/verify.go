package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/httpx"
	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/store"
)

// ErrEmailUnverified is wrapped by MayJoinOrganization's refusal.
var ErrEmailUnverified = errors.New("recovery: email address not verified")

// MayJoinOrganization applies the rule for unverified accounts (see the
// package doc) before u gets a membership in orgID: nil when u's address
// is verified, or when none of u's memberships (current, as listed by
// the store) is in another organization. The refusal is an *apperr.Error
// (Forbidden) wrapping ErrEmailUnverified; show "recovery.join.unverified".
func MayJoinOrganization(u store.User, current []store.Membership, orgID string) error {
	if u.EmailVerified {
		return nil
	}
	for _, m := range current {
		if m.OrgID != orgID {
			return apperr.Wrap(apperr.Forbidden, "verify the email address before joining another organization", ErrEmailUnverified)
		}
	}
	return nil
}

// StartEmailVerification mails a verification link for newEmail to that
// address, in the caller's transaction tx. newEmail "" or equal (folded)
// to u.Email verifies the current address (a new account); another
// address is a change, which takes effect only when its link is opened,
// and the current address is told about it at once
// (mail.KindEmailChangeNotice). Older verification links of u stop
// working: only the most recent request counts. Whether newEmail is taken
// is not checked here (that would tell the caller about another account);
// the link refuses then.
func (h *Handler) StartEmailVerification(ctx context.Context, tx Tx, u store.User, newEmail string, lang language.Tag) error {
	newEmail = strings.TrimSpace(newEmail)
	if newEmail == "" {
		newEmail = u.Email
	}
	change := store.FoldEmail(newEmail) != store.FoldEmail(u.Email)
	token, hash, err := h.newToken()
	if err != nil {
		return err
	}
	now := h.d.Now()
	if err := tx.DeleteOneTimeTokens(ctx, u.ID, store.TokenVerifyEmail); err != nil {
		return fmt.Errorf("recovery: delete older verification links: %w", err)
	}
	err = tx.CreateOneTimeToken(ctx, store.OneTimeToken{Hash: hash, Kind: store.TokenVerifyEmail,
		UserID: u.ID, Email: newEmail, CreatedAt: now, ExpiresAt: now.Add(VerifyTTL)})
	if err != nil {
		return fmt.Errorf("recovery: create verification link: %w", err)
	}
	data := mail.LinkData{Name: u.Name, Link: h.d.Issuer + "/verify?token=" + token, ExpiresMinutes: int(VerifyTTL.Minutes())}
	if err := h.send(ctx, tx, mail.KindVerifyEmail, lang, newEmail, data); err != nil {
		return err
	}
	purpose := "signup"
	if change {
		purpose = "change"
		if err := h.send(ctx, tx, mail.KindEmailChangeNotice, lang, u.Email, mail.EmailChangeData{Name: u.Name, NewEmail: newEmail}); err != nil {
			return err
		}
	}
	return h.audit(ctx, tx, AuditVerificationSent, "", u, meta{}, map[string]string{"email": newEmail, "purpose": purpose})
}

// SendVerification mails a link that verifies u's current address, in a
// transaction of its own, in the account's language (English when it has
// none). It does nothing when the address is already verified.
func (h *Handler) SendVerification(ctx context.Context, u store.User) error {
	if u.EmailVerified {
		return nil
	}
	lang := h.d.Renderer.Bundle.Match(u.Locale)
	return h.d.Directory.InTx(ctx, func(tx store.Durable) error {
		return h.StartEmailVerification(ctx, tx, u, u.Email, lang)
	})
}

// verifyResult is what a used verification link did.
type verifyResult struct {
	user    store.User
	changed bool
}

// errTaken: the address of an email change belongs to another account.
var errTaken = errors.New("recovery: address taken by another account")

// verify uses a verification link: it marks the address verified, or, for
// a change, switches the account to the new address, which must still be
// free. A refused change leaves everything, the link included, as it was.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	hash, ok := tokenHash(r.URL.Query().Get("token"))
	if !ok {
		h.badVerifyLink(w, r, h.d.Guard.Printer(r, nil), fmt.Errorf("recovery: malformed verification link: %w", store.ErrNotFound))
		return
	}
	m := h.metaOf(r)
	var res verifyResult
	var tok store.OneTimeToken
	err := h.d.Directory.InTx(ctx, func(tx store.Durable) error {
		var u store.User
		var err error
		tok, u, err = consume(ctx, tx, hash, store.TokenVerifyEmail, h.d.Now())
		if err != nil {
			return err
		}
		res, err = h.applyVerification(ctx, tx, tok, u, m)
		return err
	})
	if errors.Is(err, errTaken) {
		p := h.d.Guard.Printer(r, nil)
		h.d.Logger.InfoContext(ctx, "email change refused: address taken", slog.String("user", tok.UserID))
		h.d.Renderer.Render(w, r, http.StatusConflict, "recovery_link", p, "recovery.verify.nochange",
			linkData{Message: p.T("recovery.verify.taken", tok.Email), Again: "/", AgainKey: "recovery.verify.home"})
		return
	}
	if err != nil {
		h.badVerifyLink(w, r, h.d.Guard.Printer(r, nil), err)
		return
	}
	p := h.d.Guard.Printer(r, &res.user)
	msg := p.T("recovery.verify.done", res.user.Email)
	if res.changed {
		msg = p.T("recovery.verify.changed", res.user.Email)
	}
	h.d.Renderer.Render(w, r, http.StatusOK, "recovery_verified", p, "recovery.verify.title", linkData{Message: msg})
}

// applyVerification makes the changes of a used verification link in tx.
func (h *Handler) applyVerification(ctx context.Context, tx Tx, tok store.OneTimeToken, u store.User, m meta) (verifyResult, error) {
	now := h.d.Now()
	change := store.FoldEmail(tok.Email) != store.FoldEmail(u.Email)
	old := u.Email
	u, err := tx.UpdateUser(ctx, u.ID, func(x *store.User) error {
		if change {
			x.Email = tok.Email
		}
		x.EmailVerified, x.UpdatedAt = true, now
		return nil
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return verifyResult{}, fmt.Errorf("%w: %w", errTaken, err)
	}
	if err != nil {
		return verifyResult{}, fmt.Errorf("recovery: verify email: %w", err)
	}
	if err := tx.DeleteOneTimeTokens(ctx, u.ID, store.TokenVerifyEmail); err != nil {
		return verifyResult{}, fmt.Errorf("recovery: delete other verification links: %w", err)
	}
	if change {
		// Reset links mailed to the old address die with it (consume
		// checks the address too).
		if err := tx.DeleteOneTimeTokens(ctx, u.ID, store.TokenPasswordReset); err != nil {
			return verifyResult{}, fmt.Errorf("recovery: delete reset links: %w", err)
		}
		if err := h.audit(ctx, tx, AuditEmailChanged, u.ID, u, m, map[string]string{"from": old, "to": u.Email}); err != nil {
			return verifyResult{}, err
		}
	}
	if err := h.audit(ctx, tx, AuditEmailVerified, u.ID, u, m, map[string]string{"email": u.Email}); err != nil {
		return verifyResult{}, err
	}
	return verifyResult{user: u, changed: change}, nil
}

// badVerifyLink renders the page for an expired, tampered or used
// verification link, or the error page for a storage failure.
func (h *Handler) badVerifyLink(w http.ResponseWriter, r *http.Request, p *i18n.Printer, err error) {
	var msg string
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		msg = p.T("recovery.verify.used")
	case errors.Is(err, store.ErrNotFound):
		msg = p.T("recovery.verify.expired", int(VerifyTTL.Hours()))
	default:
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	h.d.Logger.InfoContext(r.Context(), "unusable verification link", slog.Any("err", err))
	h.d.Renderer.Render(w, r, http.StatusGone, "recovery_link", p, "recovery.link.title",
		linkData{Message: msg, Again: "/", AgainKey: "recovery.verify.home", RequestID: httpx.RequestID(r.Context())})
}

// resend mails the signed-in person a new link for their current address,
// throttled like /forgot; the answer is the same whether a mail was sent.
func (h *Handler) resend(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	if err := h.resendTo(r.Context(), v, h.metaOf(r)); err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	http.Redirect(w, r, "/verify/sent", http.StatusSeeOther)
}

func (h *Handler) resendTo(ctx context.Context, v hub.Viewer, m meta) error {
	if v.User.EmailVerified {
		return nil
	}
	account, ip := "verify:"+v.User.ID, "verify:"+m.ip
	dec, err := h.limiter.Check(ctx, account, ip)
	if err != nil {
		return fmt.Errorf("recovery: resend: %w", err)
	}
	if !dec.Allowed {
		h.d.Logger.InfoContext(ctx, "verification resend: throttled", slog.String("user", v.User.ID))
		return nil
	}
	if err := h.limiter.Fail(ctx, account, ip); err != nil {
		return fmt.Errorf("recovery: resend: %w", err)
	}
	return h.d.Directory.InTx(ctx, func(tx store.Durable) error {
		return h.StartEmailVerification(ctx, tx, v.User, v.User.Email, h.mailLang(v.User, v.P.Tag))
	})
}

func (h *Handler) resendSent(w http.ResponseWriter, r *http.Request) {
	h.d.Renderer.Render(w, r, http.StatusOK, "recovery_resent", h.d.Guard.Printer(r, nil), "recovery.resend.title",
		struct{ Hours int }{int(VerifyTTL.Hours())})
}
