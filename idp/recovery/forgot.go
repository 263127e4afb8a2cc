package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/customerhub/hubid/internal/safetext"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/store"
)

type forgotData struct {
	Email string
	Error string // message key
	// Back is the page "back to sign-in" leads to: the pending sign-in
	// the page was opened from, else the hub's.
	Back          string
	AuthRequestID string
}

// back is where the forgot pages lead back to.
func back(p pendingSignIn, ok bool) string {
	if ok {
		return "/login/password?authRequestID=" + url.QueryEscape(p.ID)
	}
	return "/signin"
}

// forgotPage shows the form. Opened from a sign-in (?authRequestID=), it
// is filled in with the address typed there and remembers the sign-in.
func (h *Handler) forgotPage(w http.ResponseWriter, r *http.Request) {
	email := r.URL.Query().Get("email")
	if len(email) > maxEmailBytes {
		email = ""
	}
	ps, ok := h.signIn(r.Context(), r.URL.Query().Get("authRequestID"))
	if ok && email == "" {
		email = ps.Email
	}
	d := forgotData{Email: email, Back: back(ps, ok)}
	if ok {
		d.AuthRequestID = ps.ID
	}
	h.d.Renderer.Render(w, r, http.StatusOK, "recovery_forgot", h.printer(r, ps, ok), "recovery.forgot.title", d)
}

// postForgot answers every plausible address with the same 303 before
// anything about it is looked up; the work is done by a background job.
// The answer depends only on the pending sign-in named in the form, whose
// ID goes into ReturnCookie.
func (h *Handler) postForgot(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	ps, ok := h.signIn(r.Context(), r.PostFormValue("authRequestID"))
	p := h.printer(r, ps, ok)
	if !plausibleEmail(email) {
		d := forgotData{Email: safetext.Cut(email, maxEmailBytes), Error: "recovery.forgot.required", Back: back(ps, ok)}
		if ok {
			d.AuthRequestID = ps.ID
		}
		h.d.Renderer.Render(w, r, http.StatusBadRequest, "recovery_forgot", p, "recovery.forgot.title", d)
		return
	}
	h.start(r.Context(), forgotJob{email: email, meta: h.metaOf(r), lang: p.Tag})
	if ok {
		h.rememberReturn(w, ps)
		http.Redirect(w, r, "/forgot/sent?authRequestID="+url.QueryEscape(ps.ID), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/forgot/sent", http.StatusSeeOther)
}

func (h *Handler) forgotSent(w http.ResponseWriter, r *http.Request) {
	ps, ok := h.signIn(r.Context(), r.URL.Query().Get("authRequestID"))
	h.d.Renderer.Render(w, r, http.StatusOK, "recovery_sent", h.printer(r, ps, ok), "recovery.sent.title",
		struct {
			Minutes int
			Back    string
		}{int(ResetTTL.Minutes()), back(ps, ok)})
}

// plausibleEmail accepts what could be an address: a local part, "@", a
// domain, no spaces or control characters, at most maxEmailBytes.
func plausibleEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if len(s) > maxEmailBytes || at < 1 || at == len(s)-1 {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// forgotJob is one /forgot request, handed to the background.
type forgotJob struct {
	email string
	meta  meta
	lang  language.Tag // of the page; mail uses the account's own setting first
}

// start runs job in the background with a context detached from the
// request (its values, such as the request ID, are kept) and bounded by
// forgotTimeout. When maxPending jobs are running the request is dropped:
// the answer has already been given and must not change.
func (h *Handler) start(parent context.Context, job forgotJob) {
	select {
	case h.pending <- struct{}{}:
	default:
		h.d.Logger.WarnContext(parent, "forgot password: too many requests in progress, one dropped")
		return
	}
	h.jobs.Add(1)
	ctx := context.WithoutCancel(parent)
	go func() {
		defer h.jobs.Done()
		defer func() { <-h.pending }()
		ctx, cancel := context.WithTimeout(ctx, forgotTimeout)
		defer cancel()
		if err := h.forgot(ctx, job); err != nil {
			h.d.Logger.ErrorContext(ctx, "forgot password", slog.Any("err", err))
		}
	}()
}

// forgot mails a reset link when the address belongs to an enabled account
// and neither the address nor the client IP has asked for too many.
func (h *Handler) forgot(ctx context.Context, job forgotJob) error {
	account, ip := "forgot:"+store.FoldEmail(job.email), "forgot:"+job.meta.ip
	dec, err := h.limiter.Check(ctx, account, ip)
	if err != nil {
		return fmt.Errorf("recovery: forgot: %w", err)
	}
	if !dec.Allowed {
		h.d.Logger.InfoContext(ctx, "forgot password: throttled", slog.String("ip", job.meta.ip), slog.Time("retry_at", dec.RetryAt))
		return nil
	}
	// Every request that may send a mail counts, known address or not.
	if err := h.limiter.Fail(ctx, account, ip); err != nil {
		return fmt.Errorf("recovery: forgot: %w", err)
	}
	u, err := h.d.Directory.GetUserByEmail(ctx, job.email)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recovery: forgot: look up account: %w", err)
	}
	if u.Disabled {
		h.d.Logger.InfoContext(ctx, "forgot password: account disabled, no link sent", slog.String("user", u.ID))
		return nil
	}
	token, hash, err := h.newToken()
	if err != nil {
		return err
	}
	now := h.d.Now()
	return h.d.Directory.InTx(ctx, func(tx store.Durable) error {
		if err := tx.DeleteOneTimeTokens(ctx, u.ID, store.TokenPasswordReset); err != nil {
			return fmt.Errorf("recovery: forgot: delete older links: %w", err)
		}
		err := tx.CreateOneTimeToken(ctx, store.OneTimeToken{Hash: hash, Kind: store.TokenPasswordReset,
			UserID: u.ID, Email: u.Email, CreatedAt: now, ExpiresAt: now.Add(ResetTTL)})
		if err != nil {
			return fmt.Errorf("recovery: forgot: create link: %w", err)
		}
		data := mail.LinkData{Name: u.Name, Link: h.d.Issuer + "/reset?token=" + token, ExpiresMinutes: int(ResetTTL.Minutes())}
		if err := h.send(ctx, tx, mail.KindPasswordReset, h.mailLang(u, job.lang), u.Email, data); err != nil {
			return err
		}
		return h.audit(ctx, tx, AuditResetRequested, "", u, job.meta, nil)
	})
}
