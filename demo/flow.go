package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// attempt is what the browser carries between /login and /callback.
type attempt struct {
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

func (a *App) sessionCookie() string { return a.prefix + ".session" }

// attemptCookie names the cookie of one sign-in attempt: one per state, so
// sign-ins started in two tabs do not overwrite each other.
func (a *App) attemptCookie(state string) string { return a.prefix + ".auth." + state }

func (a *App) mac(name, payload string) []byte {
	m := hmac.New(sha256.New, a.macKey)
	m.Write([]byte(name + "|" + payload))
	return m.Sum(nil)
}

func (a *App) setCookie(w http.ResponseWriter, name, value, path string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

// current returns the signed-in session and its ID, or nil.
func (a *App) current(r *http.Request) (*session, string) {
	c, err := r.Cookie(a.sessionCookie())
	if err != nil {
		return nil, ""
	}
	return a.sessions.get(c.Value), c.Value
}

// login starts the authorization code flow with PKCE S256, a state and a
// nonce, remembered in an HttpOnly cookie authenticated by the App.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	rp, err := a.relyingParty(r.Context())
	if err != nil {
		a.fail(w, r, http.StatusServiceUnavailable, "Customer Hub cannot be reached right now. Please try again in a moment.", err)
		return
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	b, err := json.Marshal(attempt{Nonce: nonce, Verifier: verifier, Expires: a.cfg.Now().Add(attemptTTL).Unix()})
	if err != nil {
		a.fail(w, r, http.StatusInternalServerError, "Sign-in could not be started.", fmt.Errorf("encode attempt: %w", err))
		return
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	name := a.attemptCookie(state)
	a.setCookie(w, name, payload+"."+base64.RawURLEncoding.EncodeToString(a.mac(name, payload)), "/callback", attemptTTL)
	w.Header().Set("Cache-Control", "no-store")
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if r.URL.Query().Get("switch") == "org" {
		// Ask hubid to let the person choose the organization again.
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "select_account"))
	}
	http.Redirect(w, r, rp.oauth.AuthCodeURL(state, opts...), http.StatusFound)
}

// takeAttempt returns the attempt the state names and deletes its cookie.
func (a *App) takeAttempt(w http.ResponseWriter, r *http.Request, state string) (attempt, bool) {
	var at attempt
	if state == "" {
		return at, false
	}
	name := a.attemptCookie(state)
	c, err := r.Cookie(name)
	if err != nil {
		return at, false
	}
	a.setCookie(w, name, "", "/callback", -1)
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return at, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, a.mac(name, payload)) {
		return at, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &at) != nil || at.Nonce == "" || at.Verifier == "" {
		return at, false
	}
	return at, a.cfg.Now().Before(time.Unix(at.Expires, 0))
}

// callback finishes the flow: it checks the state, redeems the code with
// the PKCE verifier, verifies the ID token and its nonce, and starts a
// session.
func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	at, ok := a.takeAttempt(w, r, q.Get("state"))
	if !ok {
		a.fail(w, r, http.StatusBadRequest, "This sign-in attempt is unknown or has expired. Please sign in again.", nil)
		return
	}
	// RFC 9207: when the IdP names itself, it must be the one we asked.
	if iss := q.Get("iss"); iss != "" && iss != a.cfg.Issuer {
		a.fail(w, r, http.StatusBadRequest, "The response came from an unexpected issuer.", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		a.fail(w, r, http.StatusBadRequest, "Sign-in did not complete: "+describeError(e, q.Get("error_description")), nil)
		return
	}
	code := q.Get("code")
	if code == "" {
		a.fail(w, r, http.StatusBadRequest, "The response carries no authorization code.", nil)
		return
	}
	rp, err := a.relyingParty(r.Context())
	if err != nil {
		a.fail(w, r, http.StatusServiceUnavailable, "Customer Hub cannot be reached right now. Please try again in a moment.", err)
		return
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, a.client)
	tok, err := rp.oauth.Exchange(ctx, code, oauth2.VerifierOption(at.Verifier))
	if err != nil {
		msg := "Customer Hub did not accept the authorization code."
		if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) && re.ErrorCode != "" {
			msg = "Customer Hub did not accept the authorization code: " + describeError(re.ErrorCode, re.ErrorDescription)
		}
		a.fail(w, r, http.StatusBadGateway, msg, fmt.Errorf("exchange code: %w", err))
		return
	}
	s, err := a.verifyIDToken(ctx, rp, tok, at.Nonce)
	if err != nil {
		a.fail(w, r, http.StatusBadGateway, "The ID token from Customer Hub is not valid.", err)
		return
	}
	if _, old := a.current(r); old != "" {
		a.sessions.remove(old) // never reuse a session ID across sign-ins
	}
	a.setCookie(w, a.sessionCookie(), a.sessions.create(s), "/", 0)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// verifyIDToken checks the token response's ID token (signature, issuer,
// audience, expiry by go-oidc; nonce and at_hash here) and returns the
// session it describes.
func (a *App) verifyIDToken(ctx context.Context, rp *relyingParty, tok *oauth2.Token, nonce string) (*session, error) {
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, errors.New("token response without id_token")
	}
	idt, err := rp.idVerifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, errors.New("id token nonce does not match the sign-in attempt")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("verify at_hash: %w", err)
		}
	}
	var claims map[string]json.RawMessage
	var std struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		SID   string `json:"sid"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("id token claims: %w", err)
	}
	if err := idt.Claims(&std); err != nil {
		return nil, fmt.Errorf("id token claims: %w", err)
	}
	return &session{Subject: idt.Subject, SID: std.SID, Name: std.Name, Email: std.Email, IDToken: raw, Claims: claims}, nil
}

// describeError formats an OAuth error code and description for a page,
// bounded so that a crafted URL cannot fill it.
func describeError(code, desc string) string {
	const max = 200
	s := code
	if desc != "" {
		s += " (" + desc + ")"
	}
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}

// logout ends the local session and sends the browser to the IdP's
// end_session_endpoint (RP-initiated logout) with the ID token as hint.
// It is a POST guarded against cross-origin requests, so a link on
// another site cannot sign the person out.
func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	s, id := a.current(r)
	a.setCookie(w, a.sessionCookie(), "", "/", -1)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.sessions.remove(id)
	rp, err := a.relyingParty(r.Context())
	if err != nil || rp.endSession == "" {
		if err != nil {
			a.cfg.Logger.WarnContext(r.Context(), "demo: signed out locally only", "app", a.cfg.Name, "err", err)
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	u, err := url.Parse(rp.endSession) // checked at discovery
	if err != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	v := u.Query()
	v.Set("id_token_hint", s.IDToken)
	v.Set("client_id", a.cfg.ClientID)
	v.Set("post_logout_redirect_uri", a.cfg.BaseURL+"/")
	v.Set("state", rand.Text())
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
