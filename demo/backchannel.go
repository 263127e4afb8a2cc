package demo

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// backchannelLogout receives the IdP's logout token (OpenID Connect
// Back-Channel Logout 1.0) and ends the demo sessions it names. It answers
// 200 on success and 400 with a JSON error otherwise (§2.8).
//
// go-oidc's VerifyLogout checks the signature against the IdP's keys, iss,
// aud, exp, jti, the back-channel logout event, that sub or sid is present
// and that there is no nonce (so an ID token can never pass as a logout
// token). Here we add the explicit-typing check and jti replay detection.
func (a *App) backchannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	raw := r.PostFormValue("logout_token")
	if raw == "" {
		a.logoutError(w, r, "logout_token is missing", nil)
		return
	}
	if err := checkLogoutType(raw); err != nil {
		a.logoutError(w, r, "the logout token is not valid", err)
		return
	}
	rp, err := a.relyingParty(r.Context())
	if err != nil {
		a.logoutError(w, r, "the provider cannot be reached to verify the logout token", err)
		return
	}
	lt, err := rp.logoutVerifier.VerifyLogout(r.Context(), raw)
	if err != nil {
		a.logoutError(w, r, "the logout token is not valid", fmt.Errorf("verify logout token: %w", err))
		return
	}
	if !a.seenJTIs.firstUse(lt.TokenID, lt.Expiry) {
		a.logoutError(w, r, "the logout token was already used", nil)
		return
	}
	n := a.sessions.endMatching(lt.SessionID, lt.Subject)
	a.cfg.Logger.InfoContext(r.Context(), "demo: back-channel logout", slog.String("app", a.cfg.Name),
		slog.String("sid", lt.SessionID), slog.String("sub", lt.Subject), slog.Int("sessions_ended", n))
	w.WriteHeader(http.StatusOK)
}

func (a *App) logoutError(w http.ResponseWriter, r *http.Request, desc string, err error) {
	if err != nil {
		a.cfg.Logger.WarnContext(r.Context(), "demo: back-channel logout refused", slog.String("app", a.cfg.Name), slog.Any("err", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": desc})
}

// checkLogoutType refuses a JWT explicitly typed as something other than a
// logout token (an access token's "at+jwt", say). The spec recommends
// typ "logout+jwt"; an untyped token or "JWT" is accepted for providers
// that do not type their logout tokens. The header is only read here; the
// signature is checked afterwards.
func checkLogoutType(raw string) error {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return errors.New("logout token is not a JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return fmt.Errorf("logout token header: %w", err)
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("logout token header: %w", err)
	}
	switch strings.TrimPrefix(strings.ToLower(h.Typ), "application/") {
	case "", "jwt", "logout+jwt":
		return nil
	default:
		return fmt.Errorf("logout token typ %q", h.Typ)
	}
}
