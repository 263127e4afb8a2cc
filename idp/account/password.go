package account

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/store"
)

// MaxPasswordBytes bounds the work a typed password can make a hash do;
// a longer current password is wrong without being hashed.
const MaxPasswordBytes = 1024

// formError is a form's refusal: the status, the field at fault (for
// aria-invalid and focus) and the translated message.
type formError struct {
	Status int
	Field  string
	Msg    string
}

// checkCurrent verifies the viewer's current password under the sign-in
// throttle (checked before any hash, a failure counted). A wrong password
// writes failKind to the history. It returns a formError to show, or an
// error for the error page, or neither when the password is right.
func (h *Handler) checkCurrent(r *http.Request, v hub.Viewer, pw, failKind string) (*formError, error) {
	ctx := r.Context()
	if pw == "" {
		return &formError{http.StatusUnprocessableEntity, "current", v.P.T("account.current.required")}, nil
	}
	account := store.FoldEmail(v.User.Email)
	ip := throttle.ClientIP(r, h.d.Proxies)
	dec, err := h.d.Limiter.Attempt(ctx, account, ip)
	if err != nil {
		return nil, fmt.Errorf("throttle check: %w", err)
	}
	if !dec.Allowed {
		key := "account.current.throttled"
		if dec.Locked {
			key = "account.current.locked"
		}
		return &formError{http.StatusTooManyRequests, "current", v.P.T(key, formatTime(v.P, dec.RetryAt.Add(time.Minute-1).Truncate(time.Minute)))}, nil
	}
	if !h.verify(r, v.User, pw) {
		if err := h.d.Limiter.Failed(ctx, account, ip); err != nil {
			h.d.Logger.WarnContext(ctx, "throttle", slog.Any("err", err))
		}
		h.auditNow(r, h.event(r, v, failKind, map[string]string{"reason": "wrong current password"}))
		return &formError{http.StatusUnprocessableEntity, "current", v.P.T("account.current.wrong")}, nil
	}
	if err := h.d.Limiter.Succeed(ctx, account); err != nil {
		h.d.Logger.WarnContext(ctx, "throttle reset", slog.Any("err", err))
	}
	return nil, nil
}

// verify checks pw against u's hash: its NFC form (how pwpolicy has new
// passwords hashed), then as typed when that differs, for hashes set
// before normalisation.
func (h *Handler) verify(r *http.Request, u store.User, pw string) bool {
	if len(pw) > MaxPasswordBytes || u.PasswordHash == "" {
		return false
	}
	for i, cand := range []string{pwpolicy.Normalize(pw), pw} {
		if i == 1 && cand == pwpolicy.Normalize(pw) {
			break
		}
		ok, _, err := h.d.Hasher.Verify(cand, u.PasswordHash)
		if err != nil {
			h.d.Logger.ErrorContext(r.Context(), "stored password hash unusable", slog.String("user", u.ID), slog.Any("err", err))
			return false
		}
		if ok {
			return true
		}
	}
	return false
}

type passwordData struct {
	page
	Email     string // for the password manager's username field
	Error     *formError
	Hint      string
	MinLength int
}

func (h *Handler) minLength() int { return max(h.d.Policy.MinLength, pwpolicy.DefaultMinLength) }

func (h *Handler) renderPassword(w http.ResponseWriter, r *http.Request, v hub.Viewer, fe *formError) {
	status := http.StatusOK
	if fe != nil {
		status = fe.Status
	}
	h.d.Renderer.Render(w, r, status, "account_password", v.P, "account.password.title", passwordData{
		page: page{Nav: nav("")}, Email: v.User.Email, Error: fe,
		Hint: v.P.T(pwpolicy.KeyHint, h.minLength()), MinLength: h.minLength(),
	})
}

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	h.renderPassword(w, r, v, nil)
}

// errConcurrent: the password changed between the check and the write.
var errConcurrent = errors.New("account: password changed concurrently")

// postPassword changes the password: current password (throttled), the
// policy, a new hash of the normalised password and PasswordChangedAt
// (which ends every refresh token) with the audit event and the notice
// mail in one transaction; then every other session ends. This one stays.
func (h *Handler) postPassword(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	ctx := r.Context()
	cur, next, confirm := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	refuse := func(status int, field, msg string) {
		h.renderPassword(w, r, v, &formError{status, field, msg})
	}
	if cur == "" {
		refuse(http.StatusUnprocessableEntity, "current", v.P.T("account.current.required"))
		return
	}
	if next == "" {
		refuse(http.StatusUnprocessableEntity, "new", v.P.T("account.password.new.required"))
		return
	}
	fe, err := h.checkCurrent(r, v, cur, KindPasswordChangeFailed)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	if fe != nil {
		h.renderPassword(w, r, v, fe)
		return
	}
	if next != confirm {
		refuse(http.StatusUnprocessableEntity, "confirm", v.P.T("account.password.mismatch"))
		return
	}
	if err := h.d.Policy.Check(next, v.User.Email, v.User.Name); err != nil {
		var pe *pwpolicy.Error
		if !errors.As(err, &pe) {
			h.d.Renderer.Error(w, r, v.P, fmt.Errorf("password policy: %w", err), "")
			return
		}
		refuse(http.StatusUnprocessableEntity, "new", v.P.T(pe.Key, pe.Args...))
		return
	}
	norm := pwpolicy.Normalize(next)
	if norm == pwpolicy.Normalize(cur) {
		refuse(http.StatusUnprocessableEntity, "new", v.P.T("account.password.same"))
		return
	}
	hash, err := h.d.Hasher.Hash(norm)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, apperr.Wrap(apperr.Internal, "hash password", err), "")
		return
	}
	changedAt := h.d.Now()
	err = h.d.Store.InTx(ctx, func(tx store.Durable) error {
		u, err := tx.UpdateUser(ctx, v.User.ID, func(u *store.User) error {
			if u.PasswordHash != v.User.PasswordHash {
				return errConcurrent
			}
			u.PasswordHash, u.PasswordChangedAt = hash, changedAt
			return nil
		})
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if _, err := tx.AppendAudit(ctx, h.event(r, v, KindPasswordChanged, nil)); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		m, err := h.d.Composer.Compose(mail.KindPasswordChanged, h.mailLang(v), u.Email, mail.NameData{Name: u.Name})
		if err != nil {
			return fmt.Errorf("compose password-changed mail: %w", err)
		}
		return mail.Enqueue(ctx, tx, m)
	})
	if errors.Is(err, errConcurrent) {
		refuse(http.StatusConflict, "current", v.P.T("account.password.conflict"))
		return
	}
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	// Committed: the password is changed and every refresh token is dead.
	// This device just proved the current password, so its session is
	// re-authenticated and stays; sessions that began before the change no
	// longer sign anyone in (session.Stale). Then sign the other devices
	// out (EndSession runs its own transaction and notifies services).
	if err := h.d.Sessions.Reauthenticated(ctx, v.Session.ID, changedAt); err != nil {
		h.d.Logger.WarnContext(ctx, "re-authenticate session after password change", slog.Any("err", err))
	}
	n, err := h.endOthers(ctx, v)
	if n > 0 {
		h.auditNow(r, h.event(r, v, KindSessionsEnded, map[string]string{"reason": "password changed", "count": fmt.Sprint(n)}))
	}
	if err != nil {
		h.d.Logger.ErrorContext(ctx, "end sessions after password change", slog.String("user", v.User.ID), slog.Any("err", err))
		back(w, r, "/account", "password-partial")
		return
	}
	back(w, r, "/account", "password")
}
