package demo_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/customerhub/hubid/demo"
)

const (
	clientID = "nk-ships-demo"
	secret   = "nk-ships-demo-secret-not-for-production-0001"
)

// person is the user the fake IdP signs in; the name checks HTML escaping.
var person = map[string]any{
	"sub": "u1abcdefghijklmnopqrstuvwx", "sid": "session-1",
	"name": "Aiko <b>Administrator</b>", "email": "admin@demo.example", "email_verified": true,
	"amr": []string{"pwd"}, "acr": "urn:hubid:acr:password",
}

type env struct {
	t    *testing.T
	idp  *fakeIdP
	base string
	http *http.Client // a browser: cookie jar, redirects not followed
}

func newEnv(t *testing.T) *env {
	t.Helper()
	idp := newFakeIdP(t, clientID, secret)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := demo.New(t.Context(), demo.Config{
		Name: "NK-SHIPS (demo)", Issuer: idp.issuer(), ClientID: clientID, ClientSecret: secret,
		BaseURL: base, OtherURL: "http://localhost:9002/",
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app
	ts.Start()
	t.Cleanup(ts.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, idp: idp, base: base, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

func (e *env) get(u string) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) post(path string, form url.Values, header http.Header) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return e.do(req)
}

// startLogin follows /login and returns the authorization URL.
func (e *env) startLogin() string {
	e.t.Helper()
	r := e.get(e.base + "/login")
	if r.status != http.StatusFound {
		e.t.Fatalf("/login: %d %s", r.status, r.body)
	}
	return r.header.Get("Location")
}

// signIn runs a whole sign-in as person.
func (e *env) signIn() {
	e.t.Helper()
	r := e.get(e.idp.approve(e.startLogin(), person, nil))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		e.t.Fatalf("callback: %d %s", r.status, r.body)
	}
	if !e.signedIn() {
		e.t.Fatal("not signed in after a good callback")
	}
}

func (e *env) signedIn() bool {
	e.t.Helper()
	r := e.get(e.base + "/")
	if r.status != http.StatusOK {
		e.t.Fatalf("/: %d", r.status)
	}
	return strings.Contains(r.body, "Signed in as")
}

func TestLoginRedirectsWithPKCEStateAndNonce(t *testing.T) {
	e := newEnv(t)
	r := e.get(e.base + "/login")
	if r.status != http.StatusFound {
		t.Fatalf("status %d", r.status)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got := u.Scheme + "://" + u.Host + u.Path; got != e.idp.issuer()+"/authorize" {
		t.Errorf("redirect to %s", got)
	}
	want := map[string]string{
		"response_type": "code", "client_id": clientID, "redirect_uri": e.base + "/callback",
		"code_challenge_method": "S256", "scope": "openid profile email roles",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 20 {
			t.Errorf("%s = %q, want a random value", k, q.Get(k))
		}
	}
	cookies := r.header.Values("Set-Cookie")
	if len(cookies) != 1 || !strings.Contains(cookies[0], "HttpOnly") || !strings.Contains(cookies[0], "SameSite=Lax") ||
		!strings.Contains(cookies[0], q.Get("state")) {
		t.Errorf("attempt cookie %q: want one HttpOnly SameSite=Lax cookie named after the state", cookies)
	}
}

func TestCallbackRejectsWrongState(t *testing.T) {
	e := newEnv(t)
	back := e.idp.approve(e.startLogin(), person, nil)
	u, _ := url.Parse(back)
	q := u.Query()
	q.Set("state", rand.Text())
	u.RawQuery = q.Encode()
	if r := e.get(u.String()); r.status != http.StatusBadRequest || !strings.Contains(r.body, "unknown or has expired") {
		t.Errorf("wrong state: %d %s", r.status, r.body)
	}
	if e.signedIn() {
		t.Error("signed in with a wrong state")
	}
}

func TestCallbackRejectsAttemptFromAnotherBrowser(t *testing.T) {
	e := newEnv(t)
	back := e.idp.approve(e.startLogin(), person, nil)
	other := newEnvSharing(t, e) // same app, empty cookie jar
	if r := other.get(back); r.status != http.StatusBadRequest {
		t.Errorf("callback without the attempt cookie: %d", r.status)
	}
}

func newEnvSharing(t *testing.T, e *env) *env {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *e.http
	c.Jar = jar
	return &env{t: t, idp: e.idp, base: e.base, http: &c}
}

func TestCallbackRejectsBadNonce(t *testing.T) {
	e := newEnv(t)
	back := e.idp.approve(e.startLogin(), person, func(c map[string]any) { c["nonce"] = rand.Text() })
	if r := e.get(back); r.status != http.StatusBadGateway || !strings.Contains(r.body, "not valid") {
		t.Errorf("bad nonce: %d %s", r.status, r.body)
	}
	if e.signedIn() {
		t.Error("signed in with a bad nonce")
	}
}

func TestCallbackShowsIdPError(t *testing.T) {
	e := newEnv(t)
	u, _ := url.Parse(e.startLogin())
	back := e.base + "/callback?" + url.Values{"state": {u.Query().Get("state")}, "error": {"login_required"}}.Encode()
	if r := e.get(back); r.status != http.StatusBadRequest || !strings.Contains(r.body, "login_required") {
		t.Errorf("error response: %d %s", r.status, r.body)
	}
}

func TestSignInShowsClaims(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	r := e.get(e.base + "/")
	for _, want := range []string{
		"NK-SHIPS (demo)",
		"Signed in as <strong>Aiko &lt;b&gt;Administrator&lt;/b&gt;</strong> (admin@demo.example)",
		"u1abcdefghijklmnopqrstuvwx", "urn:hubid:acr:password", "session-1", `href="http://localhost:9002/"`,
		"Open the other demo service", "Sign out",
		"<pre>&#34;Aiko &lt;b&gt;Administrator&lt;/b&gt;&#34;</pre>", // readable JSON, HTML-escaped
		"<pre>[\n  &#34;pwd&#34;\n]</pre>",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if strings.Contains(r.body, "<b>Administrator") {
		t.Error("claim value not HTML-escaped")
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Security-Policy") == "" {
		t.Errorf("headers %v", r.header)
	}
	// The session cookie is HttpOnly; the stylesheet is served locally.
	if s := e.get(e.base + "/static/style.css"); s.status != http.StatusOK || !strings.HasPrefix(s.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d", s.status)
	}
}

func TestSessionCookieIsHttpOnly(t *testing.T) {
	e := newEnv(t)
	r := e.get(e.idp.approve(e.startLogin(), person, nil))
	var session string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.Contains(c, ".session=") {
			session = c
		}
	}
	if !strings.Contains(session, "HttpOnly") || !strings.Contains(session, "SameSite=Lax") || !strings.Contains(session, "Path=/") {
		t.Errorf("session cookie %q", session)
	}
}

func TestLogoutRedirectsToEndSession(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	r := e.post("/logout", nil, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != e.idp.issuer()+"/end_session" {
		t.Errorf("logout redirects to %s", got)
	}
	q := u.Query()
	if q.Get("id_token_hint") != e.idp.lastIDToken() {
		t.Error("id_token_hint is not the ID token of the session")
	}
	if q.Get("post_logout_redirect_uri") != e.base+"/" || q.Get("state") == "" || q.Get("client_id") != clientID {
		t.Errorf("end_session parameters %v", q)
	}
	if e.signedIn() {
		t.Error("still signed in after logout")
	}
	// Without a session, logout goes home and not to the IdP.
	if r := e.post("/logout", nil, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Errorf("second logout: %d %s", r.status, r.header.Get("Location"))
	}
}

func TestLogoutRefusesCrossOrigin(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	r := e.post("/logout", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if r.status != http.StatusForbidden {
		t.Errorf("cross-site logout: %d", r.status)
	}
	if !e.signedIn() {
		t.Error("a cross-site POST ended the session")
	}
}

func TestBackchannelLogout(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sid, sub := person["sid"].(string), person["sub"].(string)
	withNonce := e.idp.logoutToken(sub, sid)
	withNonce["nonce"] = "n"
	noEvent := e.idp.logoutToken(sub, sid)
	delete(noEvent, "events")
	refused := map[string]string{
		"wrong signature": e.idp.sign(e.idp.logoutToken(sub, sid), "logout+jwt", other),
		"nonce":           e.idp.sign(withNonce, "logout+jwt", e.idp.key),
		"no event":        e.idp.sign(noEvent, "logout+jwt", e.idp.key),
		"access token":    e.idp.sign(e.idp.logoutToken(sub, sid), "at+jwt", e.idp.key),
		"ID token":        e.idp.lastIDToken(),
		"missing":         "",
	}
	for name, tok := range refused {
		r := e.post("/backchannel-logout", url.Values{"logout_token": {tok}}, nil)
		var body struct{ Error string }
		if r.status != http.StatusBadRequest || json.Unmarshal([]byte(r.body), &body) != nil || body.Error != "invalid_request" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	// A valid token for another session leaves ours alone.
	if r := e.post("/backchannel-logout", url.Values{"logout_token": {e.idp.sign(e.idp.logoutToken("", "session-2"), "logout+jwt", e.idp.key)}}, nil); r.status != http.StatusOK {
		t.Errorf("other session: %d %s", r.status, r.body)
	}
	if !e.signedIn() {
		t.Fatal("a refused or unrelated logout token ended the session")
	}
	good := e.idp.sign(e.idp.logoutToken(sub, sid), "logout+jwt", e.idp.key)
	if r := e.post("/backchannel-logout", url.Values{"logout_token": {good}}, nil); r.status != http.StatusOK {
		t.Fatalf("valid logout token: %d %s", r.status, r.body)
	}
	if e.signedIn() {
		t.Error("session survived a valid back-channel logout")
	}
	if r := e.post("/backchannel-logout", url.Values{"logout_token": {good}}, nil); r.status != http.StatusBadRequest {
		t.Errorf("replayed logout token: %d", r.status)
	}
}

func TestBackchannelLogoutBySubject(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	tok := e.idp.sign(e.idp.logoutToken(person["sub"].(string), ""), "", e.idp.key)
	if r := e.post("/backchannel-logout", url.Values{"logout_token": {tok}}, nil); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if e.signedIn() {
		t.Error("a sub-only logout token left the session")
	}
}

func TestDiscoveryIsRetried(t *testing.T) {
	e := newEnv(t)
	e.idp.down.Store(true)
	if r := e.get(e.base + "/login"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "cannot be reached") {
		t.Errorf("IdP down: %d %s", r.status, r.body)
	}
	e.idp.down.Store(false)
	e.signIn()
}

func TestNotFoundAndMethods(t *testing.T) {
	e := newEnv(t)
	if r := e.get(e.base + "/nope"); r.status != http.StatusNotFound {
		t.Errorf("/nope: %d", r.status)
	}
	e.signIn()
	if r := e.get(e.base + "/logout"); r.status != http.StatusNotFound {
		t.Errorf("GET /logout: %d", r.status)
	}
	if !e.signedIn() {
		t.Error("GET /logout ended the session")
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := demo.New(context.Background(), demo.Config{Issuer: "localhost:8080", OtherURL: "/x"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"ClientID is required", "BaseURL is required", "Issuer", "OtherURL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// The organization claims get their own lines, and "choose another
// organization" asks hubid for prompt=select_account.
func TestHomeShowsOrganizationClaims(t *testing.T) {
	e := newEnv(t)
	claims := maps.Clone(person)
	claims["orgs"] = []map[string]string{
		{"id": "o1", "code": "NK0001", "name": "Nippon <Kaiun>", "role": "normal"},
		{"id": "o2", "code": "NK0002", "name": "Partner", "role": "administrator"},
	}
	claims["org"] = map[string]string{"id": "o2", "code": "NK0002", "name": "Partner", "role": "administrator"}
	if r := e.get(e.idp.approve(e.startLogin(), claims, nil)); r.status != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", r.status, r.body)
	}
	r := e.get(e.base + "/")
	for _, want := range []string{
		"Acting for <strong>Partner</strong> (NK0002) as <strong>administrator</strong>",
		`<a href="/login?switch=org">`,
		"<td><code>NK0001</code></td><td>Nippon &lt;Kaiun&gt;</td><td>normal</td>",
		"<td><code>NK0002</code></td><td>Partner</td><td>administrator</td>",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("home page lacks %q:\n%s", want, r.body)
		}
	}
	login := e.get(e.base + "/login?switch=org")
	u, err := url.Parse(login.header.Get("Location"))
	if err != nil || u.Query().Get("prompt") != "select_account" {
		t.Errorf("switch: redirect %q, want prompt=select_account", login.header.Get("Location"))
	}
	if u, _ := url.Parse(e.get(e.base + "/login").header.Get("Location")); u.Query().Has("prompt") {
		t.Errorf("a plain sign-in sends prompt: %s", u)
	}
}
