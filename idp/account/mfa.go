package account

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/customerhub/hubid/internal/safetext"

	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

// TwoStep is the two-step verification service the account pages adapt
// (*mfa.Service).
type TwoStep interface {
	Status(ctx context.Context, userID string) (mfa.Status, error)
	BeginSetup(ctx context.Context, u store.User, m mfa.Meta) (mfa.Enrollment, error)
	Pending(u store.User, sealed []byte) (mfa.Enrollment, error)
	VerifySetup(ctx context.Context, u store.User, sealed []byte, code string, m mfa.Meta) error
	Activate(ctx context.Context, u store.User, sealed []byte, verified bool, m mfa.Meta) ([]string, error)
	RegenerateCodes(ctx context.Context, u store.User, m mfa.Meta) ([]string, error)
	Disable(ctx context.Context, u store.User, code string, m mfa.Meta) error
}

// Audit kind of a wrong password on the two-step pages.
const KindMFAPasswordFailed = "mfa.password.failed"

// maxCodeBytes bounds a typed code.
const maxCodeBytes = 64

func (h *Handler) mountMFA(mux *http.ServeMux) {
	if h.d.TwoStep == nil {
		return
	}
	g := h.d.Guard
	mux.HandleFunc("GET /account/mfa", g.Require(h.mfaPage))
	mux.HandleFunc("POST /account/mfa/setup", g.Require(h.postMFASetup))
	mux.HandleFunc("GET /account/mfa/setup", g.Require(h.mfaSetupPage))
	mux.HandleFunc("POST /account/mfa/verify", g.Require(h.postMFAVerify))
	mux.HandleFunc("POST /account/mfa/activate", g.Require(h.postMFAActivate))
	mux.HandleFunc("POST /account/mfa/codes", g.Require(h.postMFACodes))
	mux.HandleFunc("POST /account/mfa/off", g.Require(h.postMFAOff))
}

func (h *Handler) mfaMeta(r *http.Request, v hub.Viewer) mfa.Meta {
	return mfa.Meta{ActorID: v.User.ID, IP: throttle.ClientIP(r, h.d.Proxies), UserAgent: safetext.Cut(r.UserAgent(), 256)}
}

// recent reports whether the viewer signed in (or re-entered the
// password) within mfa.RecentSignIn.
func (h *Handler) recent(v hub.Viewer) bool {
	return h.d.Now().Sub(v.Session.AuthTime) <= mfa.RecentSignIn
}

// mfaView is the state shown on the settings page and the MFA page.
type mfaView struct {
	On                bool
	Since, SinceISO   string
	Left              int
	Few               bool
	SetupInProgress   bool
	NeedPassword      bool // the sign-in is older than 10 minutes
	Email             string
	Error, ErrorField string
}

func (h *Handler) mfaState(ctx context.Context, v hub.Viewer) (*mfaView, error) {
	if h.d.TwoStep == nil {
		return nil, nil
	}
	st, err := h.d.TwoStep.Status(ctx, v.User.ID)
	if err != nil {
		return nil, err
	}
	m := &mfaView{On: st.Enabled, Left: st.CodesLeft, Few: st.FewCodes(), NeedPassword: !h.recent(v), Email: v.User.Email,
		SetupInProgress: h.pending(v) != nil}
	if st.Enabled {
		m.Since, m.SinceISO = formatTime(v.P, st.Since), isoTime(st.Since)
	}
	return m, nil
}

// pending is the viewer's live setup in progress, or nil.
func (h *Handler) pending(v hub.Viewer) *store.PendingTOTP {
	p := v.Session.PendingTOTP
	if p == nil || !h.d.Now().Before(p.Until) {
		return nil
	}
	return p
}

type mfaPageData struct {
	page
	Done string
	MFA  *mfaView
}

func (h *Handler) mfaPage(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	h.renderMFA(w, r, v, http.StatusOK, doneKeys[r.URL.Query().Get("done")], "", "")
}

func (h *Handler) renderMFA(w http.ResponseWriter, r *http.Request, v hub.Viewer, status int, done, errMsg, field string) {
	m, err := h.mfaState(r.Context(), v)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	m.Error, m.ErrorField = errMsg, field
	h.d.Renderer.Render(w, r, status, "account_mfa", v.P, "mfa.title", mfaPageData{page: page{Nav: nav("")}, Done: done, MFA: m})
}

// reauthenticate checks the password when the sign-in is not recent; on
// refusal it has rendered the page and returns false.
func (h *Handler) reauthenticate(w http.ResponseWriter, r *http.Request, v hub.Viewer) bool {
	if h.recent(v) {
		return true
	}
	fe, err := h.checkCurrent(r, v, r.PostFormValue("current"), KindMFAPasswordFailed)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return false
	}
	if fe != nil {
		h.renderMFA(w, r, v, fe.Status, "", fe.Msg, "current")
		return false
	}
	if err := h.d.Sessions.Reauthenticated(r.Context(), v.Session.ID, h.d.Now()); err != nil {
		h.d.Logger.WarnContext(r.Context(), "reauthenticated", slog.Any("err", err))
	}
	return true
}

// postMFASetup ("Setup"; again: replaces) creates a pending secret kept
// on this session for 15 minutes.
func (h *Handler) postMFASetup(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	if !h.reauthenticate(w, r, v) {
		return
	}
	e, err := h.d.TwoStep.BeginSetup(r.Context(), v.User, h.mfaMeta(r, v))
	if err == nil {
		err = h.d.PendingTOTP(r.Context(), v.Session.ID, &store.PendingTOTP{Sealed: e.Sealed, Until: e.Until})
	}
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	http.Redirect(w, r, "/account/mfa/setup", http.StatusSeeOther)
}

type mfaSetupData struct {
	page
	QR       template.URL
	Key      string
	Verified bool
	Error    string
	Codes    []string
}

func (h *Handler) mfaSetupPage(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	h.renderMFASetup(w, r, v, http.StatusOK, "")
}

func (h *Handler) renderMFASetup(w http.ResponseWriter, r *http.Request, v hub.Viewer, status int, errKey string) {
	p := h.pending(v)
	if p == nil {
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	}
	e, err := h.d.TwoStep.Pending(v.User, p.Sealed)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	d := mfaSetupData{page: page{Nav: nav("")}, Key: e.GroupedSecret(), Verified: p.Verified,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG))}
	if errKey != "" {
		d.Error = v.P.T(errKey)
	}
	h.d.Renderer.Render(w, r, status, "account_mfa_setup", v.P, "mfa.setup.title", d)
}

// postMFAVerify ("Verify") checks a code of the pending secret.
func (h *Handler) postMFAVerify(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	p := h.pending(v)
	if p == nil {
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	}
	code := r.PostFormValue("code")
	if len(code) > maxCodeBytes {
		code = ""
	}
	err := h.d.TwoStep.VerifySetup(r.Context(), v.User, p.Sealed, code, h.mfaMeta(r, v))
	if errors.Is(err, mfa.ErrWrongCode) {
		h.renderMFASetup(w, r, v, http.StatusUnprocessableEntity, "mfa.setup.wrong")
		return
	}
	if err == nil {
		next := *p
		next.Verified = true
		err = h.d.PendingTOTP(r.Context(), v.Session.ID, &next)
	}
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	http.Redirect(w, r, "/account/mfa/setup", http.StatusSeeOther)
}

// postMFAActivate ("MFA Confirmation and Activation") stores the verified
// secret and shows the recovery codes once.
func (h *Handler) postMFAActivate(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	p := h.pending(v)
	if p == nil {
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	}
	codes, err := h.d.TwoStep.Activate(r.Context(), v.User, p.Sealed, p.Verified, h.mfaMeta(r, v))
	if errors.Is(err, mfa.ErrSetupExpired) {
		h.renderMFASetup(w, r, v, http.StatusUnprocessableEntity, "mfa.setup.notverified")
		return
	}
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	if err := h.d.PendingTOTP(r.Context(), v.Session.ID, nil); err != nil {
		h.d.Logger.WarnContext(r.Context(), "clear pending TOTP", slog.Any("err", err))
	}
	h.renderCodes(w, r, v, codes)
}

func (h *Handler) renderCodes(w http.ResponseWriter, r *http.Request, v hub.Viewer, codes []string) {
	w.Header().Set("Cache-Control", "no-store")
	h.d.Renderer.Render(w, r, http.StatusOK, "account_mfa_codes", v.P, "mfa.codes.title", mfaSetupData{page: page{Nav: nav("")}, Codes: codes})
}

// postMFACodes regenerates the recovery codes (the old ones die).
func (h *Handler) postMFACodes(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	if !h.reauthenticate(w, r, v) {
		return
	}
	codes, err := h.d.TwoStep.RegenerateCodes(r.Context(), v.User, h.mfaMeta(r, v))
	if errors.Is(err, mfa.ErrNotEnrolled) {
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	}
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	h.renderCodes(w, r, v, codes)
}

// postMFAOff turns two-step verification off: the password and a
// current code, both under the sign-in throttle.
func (h *Handler) postMFAOff(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	ctx := r.Context()
	fe, err := h.checkCurrent(r, v, r.PostFormValue("current"), KindMFAPasswordFailed)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	if fe != nil {
		h.renderMFA(w, r, v, fe.Status, "", fe.Msg, "current")
		return
	}
	code := r.PostFormValue("code")
	if len(code) > maxCodeBytes {
		code = ""
	}
	account, ip := store.FoldEmail(v.User.Email), throttle.ClientIP(r, h.d.Proxies)
	err = h.d.TwoStep.Disable(ctx, v.User, code, h.mfaMeta(r, v))
	if errors.Is(err, mfa.ErrWrongCode) {
		if err := h.d.Limiter.Failed(ctx, account, ip); err != nil {
			h.d.Logger.WarnContext(ctx, "throttle", slog.Any("err", err))
		}
		h.renderMFA(w, r, v, http.StatusUnprocessableEntity, "", v.P.T("mfa.off.wrong"), "code")
		return
	}
	if err != nil && !errors.Is(err, mfa.ErrNotEnrolled) {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	back(w, r, "/account/mfa", "mfa-off")
}
