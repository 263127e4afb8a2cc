package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// client speaks to one hubid as the bench's relying party and as its
// users' browsers. All requests share one transport, so connections are
// reused across workers and iterations like a keep-alive client would.
type client struct {
	issuer    string
	id        string // the bench client this one acts as (clientID unless as was used)
	transport *http.Transport
	http      *http.Client // no redirects followed, no cookies
}

func newTransport() *http.Transport {
	return &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

func newClient(issuer string, t *http.Transport) *client {
	return &client{issuer: issuer, id: clientID, transport: t, http: &http.Client{
		Transport:     t,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// statusError is an unexpected answer; it keeps a short excerpt of the
// body, which is what the report shows for failed requests.
type statusError struct {
	method, path string
	status       int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, e.body)
}

func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// do sends req and reads the whole body (so the connection is reused). A
// status other than want is a *statusError.
func do(hc *http.Client, req *http.Request, want int) (*http.Response, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return resp, nil, fmt.Errorf("%s %s: reading body: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode != want {
		return resp, body, &statusError{req.Method, req.URL.Path, resp.StatusCode, excerpt(body)}
	}
	return resp, body, nil
}

func (c *client) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.issuer+path, nil)
	if err != nil {
		return err
	}
	_, body, err := do(c.http, req, http.StatusOK)
	if err == nil && len(body) == 0 {
		err = fmt.Errorf("GET %s: empty body", path)
	}
	return err
}

// Discovery fetches the OpenID configuration.
func (c *client) Discovery(ctx context.Context) error {
	return c.get(ctx, "/.well-known/openid-configuration")
}

// JWKS fetches the public keys.
func (c *client) JWKS(ctx context.Context) error { return c.get(ctx, "/keys") }

// tokens is a token endpoint answer.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
}

// postForm posts form with client_secret_basic authentication.
func (c *client) postForm(ctx context.Context, path string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(clientSecret))
	_, body, err := do(c.http, req, http.StatusOK)
	return body, err
}

func (c *client) token(ctx context.Context, form url.Values, wantRefresh, wantID bool) (tokens, error) {
	body, err := c.postForm(ctx, "/oauth/token", form)
	if err != nil {
		return tokens{}, err
	}
	var t tokens
	if err := json.Unmarshal(body, &t); err != nil {
		return t, fmt.Errorf("token response: %w", err)
	}
	grant := form.Get("grant_type")
	switch {
	case t.AccessToken == "" || !strings.EqualFold(t.TokenType, "Bearer"):
		return t, fmt.Errorf("%s: no bearer access token: %s", grant, excerpt(body))
	case wantRefresh && t.RefreshToken == "":
		return t, fmt.Errorf("%s: no refresh token: %s", grant, excerpt(body))
	case wantID && t.IDToken == "":
		return t, fmt.Errorf("%s: no ID token: %s", grant, excerpt(body))
	}
	return t, nil
}

// ClientCredentials gets an access token for the client itself.
func (c *client) ClientCredentials(ctx context.Context) (tokens, error) {
	return c.token(ctx, url.Values{"grant_type": {"client_credentials"}}, false, false)
}

// Refresh redeems a refresh token; the answer holds its successor.
func (c *client) Refresh(ctx context.Context, refreshToken string) (tokens, error) {
	return c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, true, true)
}

// RefreshNoID redeems a refresh token of a client registered with
// refresh_id_token false: an answer with an ID token is an error.
func (c *client) RefreshNoID(ctx context.Context, refreshToken string) (tokens, error) {
	t, err := c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, true, false)
	if err == nil && t.IDToken != "" {
		return t, errors.New("refresh_token: an ID token for a client with refresh_id_token false")
	}
	return t, err
}

// as returns a client acting as the bench client id (same transport).
func (c *client) as(id string) *client {
	cp := *c
	cp.id = id
	return &cp
}

// Userinfo calls /userinfo with a bearer access token.
func (c *client) Userinfo(ctx context.Context, accessToken string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.issuer+"/userinfo", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	_, body, err := do(c.http, req, http.StatusOK)
	if err != nil {
		return err
	}
	var info struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(body, &info); err != nil || info.Sub == "" {
		return fmt.Errorf("userinfo without sub: %s", excerpt(body))
	}
	return nil
}

// Introspect asks whether a token is active; an inactive answer is an
// error, since the bench only introspects live tokens.
func (c *client) Introspect(ctx context.Context, token string) error {
	body, err := c.postForm(ctx, "/oauth/introspect", url.Values{"token": {token}})
	if err != nil {
		return err
	}
	var r struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(body, &r); err != nil || !r.Active {
		return fmt.Errorf("introspection: token not active: %s", excerpt(body))
	}
	return nil
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// browser is one person's browser for one sign-in: its own cookie jar, so
// there is no SSO session and the password is always asked for.
type browser struct {
	c    *client
	http *http.Client
}

func (c *client) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: c, http: &http.Client{
		Transport:     c.transport,
		Jar:           jar,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// request sends one browser request: navigations carry Sec-Fetch-Site
// none (typed URL or a redirect from the relying party), form posts and
// redirects within hubid same-origin, as a browser sends them.
func (b *browser) request(ctx context.Context, method, target string, form url.Values, want int) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "hubid-bench")
	req.Header.Set("Accept-Language", "en")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.c.issuer)
	}
	if strings.HasSuffix(req.URL.Path, "/authorize") {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	} else {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, _, err := do(b.http, req, want)
	return resp, err
}

// next resolves the Location of a redirect and checks its path.
func next(resp *http.Response, wantPath string) (*url.URL, error) {
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %d without Location", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
	}
	if wantPath != "" && loc.Path != wantPath {
		return nil, fmt.Errorf("%s %s: redirected to %s, want %s", resp.Request.Method, resp.Request.URL.Path, loc.Redacted(), wantPath)
	}
	return loc, nil
}

// SignIn is a complete sign-in as a browser and its relying party do it:
// GET /authorize → GET /login (email page) → POST /login/email → GET
// /login/password (password page) → POST /login/password (argon2id) →
// GET /authorize/callback → redirect to the client with a code → POST
// /oauth/token (code + PKCE verifier, client_secret_basic). Eight
// requests; the result holds an access, refresh and ID token.
func (c *client) SignIn(ctx context.Context, email string) (tokens, error) {
	t, _, err := c.signIn(ctx, email)
	return t, err
}

// signIn is SignIn; it also returns the browser's session cookie.
func (c *client) signIn(ctx context.Context, email string) (tokens, string, error) {
	b := c.newBrowser()
	t, err := c.signInWith(ctx, b, email)
	return t, b.cookie(), err
}

// sessionCookieName is hubid's session cookie on an http issuer.
const sessionCookieName = "hubid_session"

// cookie returns the browser's hubid session cookie ("" when none).
func (b *browser) cookie() string {
	u, err := url.Parse(b.c.issuer)
	if err != nil {
		return ""
	}
	for _, ck := range b.http.Jar.Cookies(u) {
		if ck.Name == sessionCookieName {
			return ck.Value
		}
	}
	return ""
}

func (c *client) signInWith(ctx context.Context, b *browser, email string) (tokens, error) {
	q, state, verifier := authorizeQuery(c.id)
	nonce := q.Get("nonce")
	resp, err := b.request(ctx, http.MethodGet, c.issuer+"/authorize?"+q.Encode(), nil, http.StatusFound)
	if err != nil {
		return tokens{}, err
	}
	loginURL, err := next(resp, "/login")
	if err != nil {
		return tokens{}, err
	}
	id := loginURL.Query().Get("authRequestID")
	if id == "" {
		return tokens{}, fmt.Errorf("/authorize: no authRequestID in %s", loginURL.Redacted())
	}
	if _, err := b.request(ctx, http.MethodGet, loginURL.String(), nil, http.StatusOK); err != nil {
		return tokens{}, err
	}
	resp, err = b.request(ctx, http.MethodPost, c.issuer+"/login/email", url.Values{"authRequestID": {id}, "email": {email}}, http.StatusSeeOther)
	if err != nil {
		return tokens{}, err
	}
	pwURL, err := next(resp, "/login/password")
	if err != nil {
		return tokens{}, err
	}
	if _, err := b.request(ctx, http.MethodGet, pwURL.String(), nil, http.StatusOK); err != nil {
		return tokens{}, err
	}
	resp, err = b.request(ctx, http.MethodPost, c.issuer+"/login/password", url.Values{"authRequestID": {id}, "password": {userPassword}}, http.StatusSeeOther)
	if err != nil {
		return tokens{}, err
	}
	cbURL, err := next(resp, "/authorize/callback")
	if err != nil {
		return tokens{}, fmt.Errorf("sign-in refused: %w", err)
	}
	resp, err = b.request(ctx, http.MethodGet, cbURL.String(), nil, http.StatusFound)
	if err != nil {
		return tokens{}, err
	}
	rp, err := next(resp, "")
	if err != nil {
		return tokens{}, err
	}
	if got := rp.Scheme + "://" + rp.Host + rp.Path; got != redirectURI {
		return tokens{}, fmt.Errorf("callback redirected to %s, want the client's %s", rp.Redacted(), redirectURI)
	}
	rq := rp.Query()
	if e := rq.Get("error"); e != "" {
		return tokens{}, fmt.Errorf("authorization error %s: %s", e, rq.Get("error_description"))
	}
	if rq.Get("state") != state || rq.Get("code") == "" {
		return tokens{}, fmt.Errorf("callback: state %q (want %q), code %q", rq.Get("state"), state, rq.Get("code"))
	}
	t, err := c.token(ctx, url.Values{
		"grant_type": {"authorization_code"}, "code": {rq.Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}, true, true)
	if err != nil {
		return t, err
	}
	if claims, err := jwtClaims(t.IDToken); err != nil || claims["nonce"] != nonce {
		return t, fmt.Errorf("ID token: nonce %v, want %q (%v)", claims["nonce"], nonce, err)
	}
	return t, nil
}

// jwtAlg returns the alg of a JWS compact token's header.
func jwtAlg(tok string) (string, error) {
	h, _, ok := strings.Cut(tok, ".")
	if !ok {
		return "", errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", err
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &hdr); err != nil {
		return "", err
	}
	return hdr.Alg, nil
}

// jwtClaims decodes (without verifying) the payload of a JWS compact token.
func jwtClaims(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// authorizeQuery is a code flow request of a bench client; it returns
// the query, the state and the PKCE verifier.
func authorizeQuery(clientID string) (url.Values, string, string) {
	state, nonce, verifier := randomString(), randomString(), randomString()
	sum := sha256.Sum256([]byte(verifier))
	return url.Values{
		"client_id": {clientID}, "response_type": {"code"}, "scope": {strings.Join(benchScopes, " ")},
		"redirect_uri": {redirectURI}, "state": {state}, "nonce": {nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}, state, verifier
}

// SSO is a single sign-on through a live browser session (its cookie
// value): GET /authorize → GET /login (the session is recognized) → GET
// /authorize/callback → redirect to the client with a code. Three
// requests; the code is left unused.
func (c *client) SSO(ctx context.Context, cookie string) error {
	b := c.newBrowser()
	u, _ := url.Parse(c.issuer)
	b.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookieName, Value: cookie, Path: "/"}})
	q, state, _ := authorizeQuery(c.id)
	resp, err := b.request(ctx, http.MethodGet, c.issuer+"/authorize?"+q.Encode(), nil, http.StatusFound)
	if err != nil {
		return err
	}
	loginURL, err := next(resp, "/login")
	if err != nil {
		return err
	}
	if resp, err = b.request(ctx, http.MethodGet, loginURL.String(), nil, http.StatusSeeOther); err != nil {
		return fmt.Errorf("SSO: session not recognized: %w", err)
	}
	cbURL, err := next(resp, "/authorize/callback")
	if err != nil {
		return err
	}
	if resp, err = b.request(ctx, http.MethodGet, cbURL.String(), nil, http.StatusFound); err != nil {
		return err
	}
	rp, err := next(resp, "")
	if err != nil {
		return err
	}
	if rq := rp.Query(); rq.Get("state") != state || rq.Get("code") == "" {
		return fmt.Errorf("SSO callback: %s", rp.Redacted())
	}
	return nil
}
