package login

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/customerhub/hubid/internal/safetext"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

// TwoStep is the two-step verification service the sign-in uses
// (*mfa.Service). A nil Deps.TwoStep signs in with the password alone.
type TwoStep interface {
	Enrolled(ctx context.Context, userID string) (bool, error)
	Required(ctx context.Context, userID string) (bool, error)
	ShouldOffer(ctx context.Context, userID string) (bool, error)
	SkipSetup(ctx context.Context, userID string, m mfa.Meta) error
	VerifySignIn(ctx context.Context, userID, code string, m mfa.Meta) ([]string, error)
	BeginSetup(ctx context.Context, u store.User, m mfa.Meta) (mfa.Enrollment, error)
	Pending(u store.User, sealed []byte) (mfa.Enrollment, error)
	VerifySetup(ctx context.Context, u store.User, sealed []byte, code string, m mfa.Meta) error
	Activate(ctx context.Context, u store.User, sealed []byte, verified bool, m mfa.Meta) ([]string, error)
}

// maxCodeBytes bounds a typed code (TOTP or recovery).
const maxCodeBytes = 64

// mountSecondStep registers the second step's pages.
func (h *Handler) mountSecondStep(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/mfa", h.secondStepPage)
	mux.HandleFunc("POST /login/mfa", h.postSecondStep)
	mux.HandleFunc("POST /login/mfa/setup", h.postSecondStepSetup)
	mux.HandleFunc("POST /login/mfa/continue", h.postSecondStepContinue)
}

// bindingCookie ties a half-finished sign-in to the browser that passed
// the password.
func (h *Handler) bindingCookie() string {
	if strings.HasPrefix(h.d.Sessions.CookieName(), "__Host-") {
		return "__Host-hubid_2step"
	}
	return "hubid_2step"
}

func bindingHash(v string) string {
	s := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

func (h *Handler) meta(r *http.Request, userID, clientID string) mfa.Meta {
	return mfa.Meta{ActorID: userID, ClientID: clientID, IP: throttle.ClientIP(r, h.d.Proxies), UserAgent: safetext.Cut(r.UserAgent(), 256)}
}

// wantsTwoStep reports whether the client asked for the two-step acr.
func (h *Handler) wantsTwoStep(ar store.AuthRequest) bool {
	return h.d.TwoStepACR != "" && slices.Contains(ar.ACRValues, h.d.TwoStepACR)
}

// afterPassword continues a sign-in whose password was right: straight
// to a new session, or to the second step (a code, or setup when the
// person has no authenticator and it is required, asked for or offered).
// The throttle is reset only when the sign-in is complete: wrong codes
// spend what is left of the same budget as wrong passwords.
func (h *Handler) afterPassword(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, u store.User, remember bool, account string) {
	ctx := r.Context()
	var enrolled, required, offer bool
	var err error
	if h.d.TwoStep != nil {
		if enrolled, err = h.d.TwoStep.Enrolled(ctx, u.ID); err == nil && !enrolled {
			if required, err = h.d.TwoStep.Required(ctx, u.ID); err == nil && !required && !h.wantsTwoStep(ar) {
				offer, err = h.d.TwoStep.ShouldOffer(ctx, u.ID)
			}
		}
	}
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	setup := !enrolled && (required || h.wantsTwoStep(ar) || offer)
	if !enrolled && !setup {
		if err := h.d.Limiter.Succeed(ctx, account); err != nil {
			h.d.Logger.WarnContext(ctx, "throttle reset", slog.Any("err", err))
		}
		h.audit(ctx, r, "signin.success", u.ID, ar.ClientID, map[string]string{"remember": strconv.FormatBool(remember)})
		h.createSessionAndFinish(w, r, ar, u.ID, remember, h.d.Now(), []string{"pwd"})
		return
	}
	if setup {
		// Nothing to guess at setup: the secret is new.
		if err := h.d.Limiter.Succeed(ctx, account); err != nil {
			h.d.Logger.WarnContext(ctx, "throttle reset", slog.Any("err", err))
		}
	}
	h.startSecondStep(w, r, ar, store.SecondStep{UserID: u.ID, Remember: remember, PasswordAt: h.d.Now(),
		Setup: setup, Forced: required || h.wantsTwoStep(ar)})
}

// startSecondStep stores the half-signed-in state in the auth request,
// bound to this browser by a cookie, and shows the second step.
func (h *Handler) startSecondStep(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, st store.SecondStep) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(h.d.Rand, b); err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	st.Binding, st.ExpiresAt = bindingHash(v), h.d.Now().Add(mfa.SignInWindow)
	if _, err := h.d.AuthRequests.UpdateAuthRequest(r.Context(), ar.ID, func(a *store.AuthRequest) error {
		a.SecondStep = &st
		return nil
	}); err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "error.expired")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: h.bindingCookie(), Value: v, Path: "/", HttpOnly: true,
		Secure: strings.HasPrefix(h.bindingCookie(), "__Host-"), SameSite: http.SameSiteLaxMode,
		Expires: st.ExpiresAt})
	http.Redirect(w, r, "/login/mfa?authRequestID="+url.QueryEscape(ar.ID), http.StatusSeeOther)
}

// needsSecondStep reports whether an SSO session s must pass the second
// step before ar completes: the client asked for the two-step acr, or an
// organization of the person requires it, and s lacks it (a step-up).
func (h *Handler) needsSecondStep(ctx context.Context, ar store.AuthRequest, s store.Session) (bool, error) {
	if h.d.TwoStep == nil || slices.Contains(s.AMR, "otp") {
		return false, nil
	}
	if h.wantsTwoStep(ar) {
		return true, nil
	}
	return h.d.TwoStep.Required(ctx, s.UserID)
}

// stepUp sends an SSO session without the second step through it.
func (h *Handler) stepUp(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, s store.Session) {
	if slices.Contains(ar.Prompt, "none") {
		h.d.LoginRequired(w, r, ar)
		return
	}
	enrolled, err := h.d.TwoStep.Enrolled(r.Context(), s.UserID)
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	h.startSecondStep(w, r, ar, store.SecondStep{UserID: s.UserID, Remember: s.Remember, PasswordAt: s.AuthTime,
		SessionID: s.ID, Setup: !enrolled, Forced: true})
}

// loadSecondStep loads the request and its half-signed-in state, which
// must be live and bound to this browser; otherwise the person starts
// again from the email page.
func (h *Handler) loadSecondStep(w http.ResponseWriter, r *http.Request) (store.AuthRequest, store.SecondStep, bool) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return ar, store.SecondStep{}, false
	}
	st := ar.SecondStep
	c, err := r.Cookie(h.bindingCookie())
	if st == nil || !h.d.Now().Before(st.ExpiresAt) || err != nil ||
		subtle.ConstantTimeCompare([]byte(bindingHash(c.Value)), []byte(st.Binding)) != 1 {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), apperr.New(apperr.Invalid, "second step expired"), "signin.mfa.expired")
		return ar, store.SecondStep{}, false
	}
	return ar, *st, true
}

type secondStepData struct {
	AuthRequestID, ClientName, Error, RetryAt string
	Recovery                                  bool
	// Setup
	Setup, Forced, Verified bool
	QR                      template.URL
	Key                     string
	Codes                   []string // shown once, after activation
}

var secondStepErrors = map[string]bool{"signin.mfa.wrong": true, "signin.throttled": true, "signin.locked": true, "signin.mfa.required": true}

func (h *Handler) secondStepPage(w http.ResponseWriter, r *http.Request) {
	ar, st, ok := h.loadSecondStep(w, r)
	if !ok {
		return
	}
	d := secondStepData{AuthRequestID: ar.ID, ClientName: h.clientName(r.Context(), ar.ClientID), Recovery: r.FormValue("recovery") == "1"}
	status := http.StatusOK
	if e := r.FormValue("e"); secondStepErrors[e] {
		d.Error, status = e, http.StatusUnauthorized
		if sec, err := strconv.ParseInt(r.FormValue("retry"), 10, 64); err == nil && sec > 0 {
			d.RetryAt = time.Unix(sec, 0).UTC().Format("15:04:05 UTC")
			status = http.StatusTooManyRequests
		}
	}
	if !st.Setup {
		h.d.Renderer.Render(w, r, status, "signin_mfa", h.printer(r, &ar), "signin.mfa.title", d)
		return
	}
	h.renderSetup(w, r, ar, st, d, status)
}

// renderSetup shows the setup page, generating the pending secret the
// first time (it lives in the auth request for 15 minutes at most).
func (h *Handler) renderSetup(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, st store.SecondStep, d secondStepData, status int) {
	ctx := r.Context()
	p := h.printer(r, &ar)
	u, err := h.d.Directory.GetUser(ctx, st.UserID)
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	var e mfa.Enrollment
	if len(st.PendingSecret) > 0 && h.d.Now().Before(st.PendingUntil) {
		e, err = h.d.TwoStep.Pending(u, st.PendingSecret)
	} else {
		if e, err = h.d.TwoStep.BeginSetup(ctx, u, h.meta(r, u.ID, ar.ClientID)); err == nil {
			_, err = h.d.AuthRequests.UpdateAuthRequest(ctx, ar.ID, func(a *store.AuthRequest) error {
				if a.SecondStep == nil {
					return apperr.New(apperr.Invalid, "second step gone")
				}
				a.SecondStep.PendingSecret, a.SecondStep.PendingUntil, a.SecondStep.Verified = e.Sealed, e.Until, false
				return nil
			})
			st.Verified = false
		}
	}
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	d.Setup, d.Forced, d.Verified = true, st.Forced, st.Verified
	d.QR, d.Key = PNGDataURL(e.QRPNG), e.GroupedSecret()
	h.d.Renderer.Render(w, r, status, "signin_mfa_setup", p, "signin.mfa.setup.title", d)
}

// PNGDataURL is an inline image for a page (the page CSP allows data:
// images; nothing is fetched from a third party).
func PNGDataURL(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

func (h *Handler) backToSecondStep(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, errKey string, retry time.Time, recovery bool) {
	q := url.Values{"authRequestID": {ar.ID}}
	if errKey != "" {
		q.Set("e", errKey)
	}
	if !retry.IsZero() {
		q.Set("retry", strconv.FormatInt(retry.Unix(), 10))
	}
	if recovery {
		q.Set("recovery", "1")
	}
	http.Redirect(w, r, "/login/mfa?"+q.Encode(), http.StatusSeeOther)
}

// postSecondStep checks a TOTP or recovery code under the same throttle
// as the password, and completes the sign-in.
func (h *Handler) postSecondStep(w http.ResponseWriter, r *http.Request) {
	ar, st, ok := h.loadSecondStep(w, r)
	if !ok {
		return
	}
	if st.Setup {
		h.backToSecondStep(w, r, ar, "", time.Time{}, false)
		return
	}
	ctx := r.Context()
	code, recovery := r.PostFormValue("code"), r.PostFormValue("recovery") == "1"
	u, err := h.d.Directory.GetUser(ctx, st.UserID)
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	account, ip := store.FoldEmail(u.Email), throttle.ClientIP(r, h.d.Proxies)
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
		h.backToSecondStep(w, r, ar, key, dec.RetryAt, recovery)
		return
	}
	var methods []string
	if code == "" || len(code) > maxCodeBytes || u.Disabled {
		err = mfa.ErrWrongCode
	} else {
		methods, err = h.d.TwoStep.VerifySignIn(ctx, u.ID, code, h.meta(r, u.ID, ar.ClientID))
	}
	if errors.Is(err, mfa.ErrWrongCode) || errors.Is(err, mfa.ErrNotEnrolled) {
		if err := h.d.Limiter.Failed(ctx, account, ip); err != nil {
			h.d.Logger.WarnContext(ctx, "throttle", slog.Any("err", err))
		}
		h.backToSecondStep(w, r, ar, "signin.mfa.wrong", time.Time{}, recovery)
		return
	}
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	if err := h.d.Limiter.Succeed(ctx, account); err != nil {
		h.d.Logger.WarnContext(ctx, "throttle reset", slog.Any("err", err))
	}
	h.completeSecondStep(w, r, ar, st, methods, nil)
}

// postSecondStepSetup is setup during sign-in: "Verify" a code of the
// pending secret, then "MFA Confirmation and Activation", or "Not now"
// when setup is only offered.
func (h *Handler) postSecondStepSetup(w http.ResponseWriter, r *http.Request) {
	ar, st, ok := h.loadSecondStep(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	p := h.printer(r, &ar)
	if !st.Setup {
		h.backToSecondStep(w, r, ar, "", time.Time{}, false)
		return
	}
	u, err := h.d.Directory.GetUser(ctx, st.UserID)
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "")
		return
	}
	m := h.meta(r, u.ID, ar.ClientID)
	switch r.PostFormValue("action") {
	case "skip":
		if st.Forced {
			h.backToSecondStep(w, r, ar, "signin.mfa.required", time.Time{}, false)
			return
		}
		if err := h.d.TwoStep.SkipSetup(ctx, u.ID, m); err != nil {
			h.d.Renderer.Error(w, r, p, err, "")
			return
		}
		h.completeSecondStep(w, r, ar, st, nil, nil)
	case "verify":
		if len(st.PendingSecret) == 0 || !h.d.Now().Before(st.PendingUntil) {
			h.backToSecondStep(w, r, ar, "", time.Time{}, false)
			return
		}
		code := r.PostFormValue("code")
		if len(code) > maxCodeBytes {
			code = ""
		}
		err := h.d.TwoStep.VerifySetup(ctx, u, st.PendingSecret, code, m)
		if errors.Is(err, mfa.ErrWrongCode) {
			h.backToSecondStep(w, r, ar, "signin.mfa.wrong", time.Time{}, false)
			return
		}
		if err == nil {
			_, err = h.d.AuthRequests.UpdateAuthRequest(ctx, ar.ID, func(a *store.AuthRequest) error {
				if a.SecondStep == nil {
					return apperr.New(apperr.Invalid, "second step gone")
				}
				a.SecondStep.Verified = true
				return nil
			})
		}
		if err != nil {
			h.d.Renderer.Error(w, r, p, err, "")
			return
		}
		h.backToSecondStep(w, r, ar, "", time.Time{}, false)
	case "activate":
		codes, err := h.d.TwoStep.Activate(ctx, u, st.PendingSecret, st.Verified && h.d.Now().Before(st.PendingUntil), m)
		if errors.Is(err, mfa.ErrSetupExpired) {
			h.backToSecondStep(w, r, ar, "", time.Time{}, false)
			return
		}
		if err != nil {
			h.d.Renderer.Error(w, r, p, err, "")
			return
		}
		h.completeSecondStep(w, r, ar, st, mfa.AMRTOTP, codes)
	default:
		h.backToSecondStep(w, r, ar, "", time.Time{}, false)
	}
}

// completeSecondStep signs the person in: a new session (or the SSO
// session being stepped up) with "pwd" plus the second step's methods;
// the half-signed-in state is cleared. With codes (a setup has just been
// activated), the recovery codes are shown once before continuing.
func (h *Handler) completeSecondStep(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, st store.SecondStep, methods []string, codes []string) {
	ctx := r.Context()
	p := h.printer(r, &ar)
	amr := append([]string{"pwd"}, methods...)
	var s store.Session
	var err error
	if st.SessionID != "" {
		s, err = h.d.Sessions.AddMethods(ctx, st.SessionID, st.UserID, methods)
	} else {
		s, err = h.d.Sessions.Create(ctx, w, r, session.Params{
			UserID: st.UserID, AuthTime: h.d.Now(), AMR: amr, Remember: st.Remember,
			IP: throttle.ClientIP(r, h.d.Proxies), UserAgent: safetext.Cut(r.UserAgent(), 256),
		})
	}
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "error.expired")
		return
	}
	ar, err = h.d.AuthRequests.UpdateAuthRequest(ctx, ar.ID, func(a *store.AuthRequest) error {
		if a.SecondStep == nil {
			return apperr.New(apperr.Invalid, "second step already finished")
		}
		a.SecondStep = nil
		return nil
	})
	if err != nil {
		h.d.Renderer.Error(w, r, p, err, "error.expired")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: h.bindingCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: strings.HasPrefix(h.bindingCookie(), "__Host-"), SameSite: http.SameSiteLaxMode})
	if st.SessionID == "" {
		h.audit(ctx, r, "signin.success", st.UserID, ar.ClientID, map[string]string{
			"remember": strconv.FormatBool(st.Remember), "amr": strings.Join(amr, " ")})
	}
	if len(codes) > 0 {
		h.d.Renderer.Render(w, r, http.StatusOK, "signin_mfa_codes", p, "mfa.codes.title",
			secondStepData{AuthRequestID: ar.ID, Codes: codes})
		return
	}
	h.finish(w, r, ar, s)
}

// postSecondStepContinue continues after the recovery codes were shown:
// the session exists by then.
func (h *Handler) postSecondStepContinue(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.loadRequest(w, r)
	if !ok {
		return
	}
	s, live, err := h.d.Sessions.Current(r.Context(), w, r)
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	if !live || ar.SecondStep != nil {
		http.Redirect(w, r, "/login?authRequestID="+url.QueryEscape(ar.ID), http.StatusSeeOther)
		return
	}
	h.finish(w, r, ar, s)
}

// createSessionAndFinish creates the browser session of a completed
// sign-in and finishes the request.
func (h *Handler) createSessionAndFinish(w http.ResponseWriter, r *http.Request, ar store.AuthRequest, userID string, remember bool, at time.Time, amr []string) {
	s, err := h.d.Sessions.Create(r.Context(), w, r, session.Params{
		UserID: userID, AuthTime: at, AMR: amr, Remember: remember,
		IP: throttle.ClientIP(r, h.d.Proxies), UserAgent: safetext.Cut(r.UserAgent(), 256),
	})
	if err != nil {
		h.d.Renderer.Error(w, r, h.printer(r, &ar), err, "")
		return
	}
	h.finish(w, r, ar, s)
}
