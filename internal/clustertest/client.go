package clustertest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// RP is a confidential relying party of the deployment: it starts
// authorization requests, redeems codes and refreshes tokens through the
// issuer URL (nginx), and records which replica answered.
type RP struct {
	Issuer, ID, Secret, Redirect string
	HTTP                         *http.Client
}

// NewRP returns a relying party; requests time out after 15 s (a guard: a
// hung request fails instead of hanging the test).
func NewRP(issuer, id, secret, redirect string) *RP {
	return &RP{Issuer: issuer, ID: id, Secret: secret, Redirect: redirect, HTTP: &http.Client{
		Timeout: 15 * time.Second,
		// A connection per request: nginx reloads (Drain) close idle
		// client connections, and a POST is not retried on one.
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Answer is one response: status, body, and the replica that gave it.
type Answer struct {
	Status  int
	Body    []byte
	Header  http.Header
	Replica string
}

// JSON decodes the body into a map (empty when it is not JSON).
func (a Answer) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(a.Body, &m)
	return m
}

func replicaOf(h http.Header) string {
	v := h.Get(UpstreamHeader)
	if i := strings.LastIndex(v, ", "); i >= 0 {
		v = v[i+2:]
	}
	return v
}

// send does req with hc and reads the whole answer.
func send(hc *http.Client, req *http.Request) (Answer, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Answer{}, err
	}
	return Answer{Status: resp.StatusCode, Body: b, Header: resp.Header, Replica: replicaOf(resp.Header)}, nil
}

// Token posts form to the token endpoint with client_secret_basic.
func (rp *RP) Token(ctx context.Context, form url.Values) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rp.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rp.ID), url.QueryEscape(rp.Secret))
	return send(rp.HTTP, req)
}

// Tokens is a successful token answer.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

// TokenOK is Token that wants 200 and decodes the tokens.
func (rp *RP) TokenOK(ctx context.Context, form url.Values) (Tokens, Answer, error) {
	a, err := rp.Token(ctx, form)
	if err != nil {
		return Tokens{}, a, err
	}
	var t Tokens
	if a.Status != http.StatusOK || json.Unmarshal(a.Body, &t) != nil || t.AccessToken == "" {
		return t, a, fmt.Errorf("%s: %d %s", form.Get("grant_type"), a.Status, excerpt(a.Body))
	}
	return t, a, nil
}

// Refresh redeems a refresh token.
func (rp *RP) Refresh(ctx context.Context, refresh string) (Tokens, Answer, error) {
	return rp.TokenOK(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

// Browser is a person's browser: a cookie jar; every answer it got is
// kept in Trail (path and replica).
type Browser struct {
	rp    *RP
	http  *http.Client
	Trail []Step
}

// Step is one request a Browser made.
type Step struct {
	Method, Path, Replica string
	Status                int
}

// NewBrowser returns a browser with an empty cookie jar.
func (rp *RP) NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{rp: rp, http: &http.Client{Jar: jar, Timeout: 15 * time.Second, Transport: rp.HTTP.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Do sends one browser request (form: a POST) with the headers a browser
// sends, and records it.
func (b *Browser) Do(ctx context.Context, method, target string, form url.Values) (Answer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("User-Agent", "hubid-clustertest")
	req.Header.Set("Accept-Language", "en")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.rp.Issuer)
	}
	a, err := send(b.http, req)
	if err == nil {
		b.Trail = append(b.Trail, Step{Method: method, Path: req.URL.Path, Replica: a.Replica, Status: a.Status})
	}
	return a, err
}

// Flow is one authorization request.
type Flow struct {
	State, Nonce, Verifier string
	AuthRequestID          string // set when hubid asked to sign in
	Code                   string // set when the relying party got a code
	Error                  string // set when it got an error instead
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Authorize starts a code flow (PKCE S256, offline_access) and follows
// hubid's redirects until the sign-in page (AuthRequestID set) or the
// relying party (Code or Error set).
func (b *Browser) Authorize(ctx context.Context) (*Flow, error) {
	f := &Flow{State: random(), Nonce: random(), Verifier: random()}
	sum := sha256.Sum256([]byte(f.Verifier))
	q := url.Values{
		"client_id": {b.rp.ID}, "response_type": {"code"}, "scope": {"openid offline_access profile email"},
		"redirect_uri": {b.rp.Redirect}, "state": {f.State}, "nonce": {f.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	return f, b.follow(ctx, f, http.MethodGet, b.rp.Issuer+"/authorize?"+q.Encode(), nil)
}

// follow sends a request and follows redirects within the issuer; it
// stops at the sign-in form, the relying party, or any other answer.
func (b *Browser) follow(ctx context.Context, f *Flow, method, target string, form url.Values) error {
	for range 10 {
		a, err := b.Do(ctx, method, target, form)
		if err != nil {
			return err
		}
		u, _ := url.Parse(target)
		if a.Status == http.StatusOK && u.Path == "/login" {
			f.AuthRequestID = u.Query().Get("authRequestID")
			return nil
		}
		loc := a.Header.Get("Location")
		if a.Status < 300 || a.Status > 399 || loc == "" {
			return &PageError{Method: method, Path: u.Path, Answer: a}
		}
		next, err := u.Parse(loc)
		if err != nil {
			return err
		}
		if strings.HasPrefix(next.String(), b.rp.Redirect) {
			q := next.Query()
			if q.Get("state") != f.State {
				return fmt.Errorf("state %q, want %q", q.Get("state"), f.State)
			}
			f.Code, f.Error = q.Get("code"), q.Get("error")
			return nil
		}
		method, target, form = http.MethodGet, next.String(), nil
	}
	return fmt.Errorf("too many redirects")
}

// PageError is an answer a browser did not expect on its way.
type PageError struct {
	Method, Path string
	Answer
}

func (e *PageError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, excerpt(e.Body))
}

func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// SignIn fills the email and password pages of a flow on the sign-in
// page (with "automatically sign in next time") and follows on to the
// relying party.
func (b *Browser) SignIn(ctx context.Context, f *Flow, email, password string) error {
	if f.AuthRequestID == "" {
		return fmt.Errorf("not on the sign-in page")
	}
	a, err := b.Do(ctx, http.MethodPost, b.rp.Issuer+"/login/email", url.Values{"authRequestID": {f.AuthRequestID}, "email": {email}})
	if err != nil {
		return err
	}
	if a.Status != http.StatusSeeOther {
		return &PageError{Method: http.MethodPost, Path: "/login/email", Answer: a}
	}
	form := url.Values{"authRequestID": {f.AuthRequestID}, "password": {password}, "remember": {"1"}}
	return b.follow(ctx, f, http.MethodPost, b.rp.Issuer+"/login/password", form)
}

// Exchange redeems the flow's code.
func (rp *RP) Exchange(ctx context.Context, f *Flow) (Tokens, Answer, error) {
	return rp.TokenOK(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {f.Code},
		"redirect_uri": {rp.Redirect}, "code_verifier": {f.Verifier}})
}

// Served returns the replica that answered the browser's last request to
// path with method.
func (b *Browser) Served(method, path string) string {
	for i := len(b.Trail) - 1; i >= 0; i-- {
		if s := b.Trail[i]; s.Method == method && s.Path == path {
			return s.Replica
		}
	}
	return ""
}
