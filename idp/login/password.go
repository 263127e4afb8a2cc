package login

import (
	"errors"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/internal/safetext"
	"github.com/customerhub/hubid/store"
)

// MaxPasswordBytes bounds the work an attacker can make a hash do.
const MaxPasswordBytes = 1024

// postEmail stores the email in the request and moves to the password
// page. It answers the same for known and unknown emails.
func (h *Handler) postEmail(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return
	}
	email := r.PostFormValue("email")
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		email = safetext.Cut(email, 254)
		if hint := h.legacyHint(r, email); hint != NoLegacyHint {
			h.renderEmailHint(w, r, ar, email, hint.key(), hint)
			return
		}
		h.renderEmail(w, r, ar, email, "signin.email.required")
		return
	}
	if _, err := h.d.AuthRequests.UpdateAuthRequest(r.Context(), ar.ID, func(a *store.AuthRequest) error {
		a.LoginHint = email
		return nil
	}); err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "error.expired")
		return
	}
	http.Redirect(w, r, "/login/password?authRequestID="+url.QueryEscape(ar.ID), http.StatusSeeOther)
}

type passwordData struct {
	AuthRequestID, ClientName, Email, Error, RetryAt string
	Remember                                         bool
}

// errorKeys are the messages the password page may be asked to show.
var errorKeys = map[string]bool{"signin.failed": true, "signin.throttled": true, "signin.locked": true, "signin.password.required": true}

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return
	}
	if ar.LoginHint == "" {
		http.Redirect(w, r, "/login?authRequestID="+url.QueryEscape(ar.ID), http.StatusSeeOther)
		return
	}
	d := passwordData{AuthRequestID: ar.ID, ClientName: h.clientName(r.Context(), ar.ClientID), Email: ar.LoginHint,
		Remember: r.FormValue("remember") == "1"}
	status := http.StatusOK
	if e := r.FormValue("e"); errorKeys[e] {
		d.Error, status = e, http.StatusUnauthorized
		if sec, err := strconv.ParseInt(r.FormValue("retry"), 10, 64); err == nil && sec > 0 {
			d.RetryAt = time.Unix(sec, 0).UTC().Format("15:04:05 UTC")
			status = http.StatusTooManyRequests
		}
	}
	h.d.Renderer.Render(w, r, status, "signin_password", h.printer(r, &ar), "signin.title", d)
}

func (h *Handler) backToPassword(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, errKey string, retry time.Time, remember bool) {
	q := url.Values{"authRequestID": {ar.ID}, "e": {errKey}}
	if !retry.IsZero() {
		q.Set("retry", strconv.FormatInt(retry.Unix(), 10))
	}
	if remember {
		q.Set("remember", "1")
	}
	http.Redirect(w, r, "/login/password?"+q.Encode(), http.StatusSeeOther)
}

// postPassword checks the throttle before any hash, verifies the password
// (or spends a dummy hash for an unknown email), and on success creates a
// new session and finishes the request. Wrong email and wrong password
// give the same answer.
func (h *Handler) postPassword(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	email := ar.LoginHint
	pw := r.PostFormValue("password")
	remember := r.PostFormValue("remember") == "1"
	if email == "" {
		http.Redirect(w, r, "/login?authRequestID="+url.QueryEscape(ar.ID), http.StatusSeeOther)
		return
	}
	if pw == "" {
		h.backToPassword(w, r, ar, "signin.password.required", time.Time{}, remember)
		return
	}
	account := store.FoldEmail(email)
	ip := throttle.ClientIP(r, h.d.Proxies)
	// The user is looked up before the attempt is counted: an attempt that
	// ends in "temporarily unavailable" (the database is down) must not
	// count, or people who keep retrying during an outage are locked out
	// with the right password once it ends. After Attempt nothing reads or
	// writes storage until the verdict, so a counted attempt is one whose
	// password was checked. The lookup reveals nothing: it happens for
	// known and unknown emails alike, and the answer is the same.
	u, err := h.d.Directory.GetUserByEmail(ctx, email)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	dec, err := h.d.Limiter.Attempt(ctx, account, ip)
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	if !dec.Allowed {
		key := "signin.throttled"
		if dec.Locked {
			key = "signin.locked"
		}
		h.backToPassword(w, r, ar, key, dec.RetryAt, remember)
		return
	}
	valid, rehash := false, false
	if len(pw) > MaxPasswordBytes {
		h.d.Hasher.DummyVerify(pw[:MaxPasswordBytes])
	} else if known && u.PasswordHash != "" {
		// Passwords are hashed in NFC form (pwpolicy.Normalize); a hash made
		// from another form (an import) is tried once and then upgraded.
		norm := pwpolicy.Normalize(pw)
		valid, rehash, err = h.d.Hasher.Verify(norm, u.PasswordHash)
		if err == nil && !valid && norm != pw {
			if valid, _, err = h.d.Hasher.Verify(pw, u.PasswordHash); valid {
				rehash = true
			}
		}
		pw = norm
		if err != nil {
			h.d.Logger.ErrorContext(ctx, "stored password hash unusable", slog.String("user", u.ID), slog.Any("err", err))
			valid = false
		}
	} else {
		h.d.Hasher.DummyVerify(pw)
	}
	if !valid || u.Disabled {
		if err := h.d.Limiter.Failed(ctx, account, ip); err != nil {
			h.d.Logger.WarnContext(ctx, "throttle", slog.Any("err", err))
		}
		if known {
			h.audit(ctx, r, "signin.failure", u.ID, ar.ClientID, nil)
		}
		h.backToPassword(w, r, ar, "signin.failed", time.Time{}, remember)
		return
	}
	if rehash {
		h.rehash(r, u.ID, pw)
	}
	// The session is created, and the throttle reset, once the sign-in is
	// complete: now, or after the second step (secondstep.go).
	h.afterPassword(w, r, ar, u, remember, account)
}

// rehash upgrades a weaker stored hash (older parameters, imported bcrypt).
func (h *Handler) rehash(r *http.Request, userID, pw string) {
	enc, err := h.d.Hasher.Hash(pw)
	if err == nil {
		_, err = h.d.Directory.UpdateUser(r.Context(), userID, func(u *store.User) error {
			u.PasswordHash = enc
			return nil
		})
	}
	if err != nil {
		h.d.Logger.WarnContext(r.Context(), "rehash password", slog.Any("err", apperr.Wrap(apperr.Internal, "rehash", err)))
	}
}
