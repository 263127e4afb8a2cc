package demo_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fakeIdP is the least OpenID provider that exercises the demo: discovery,
// /keys, /token (client secret, single-use code, PKCE S256) and a no-op
// /end_session. Authorization is a method (approve), not a page: the test
// plays the person who signs in.
type fakeIdP struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	kid    string
	client string
	secret string
	down   atomic.Bool // discovery answers 503 while set

	mu     sync.Mutex
	codes  map[string]grant
	issued []string // ID tokens, in order
}

type grant struct {
	clientID, redirectURI, challenge string
	claims                           map[string]any
}

func newFakeIdP(t *testing.T, clientID, secret string) *fakeIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIdP{t: t, key: key, kid: "key-1", client: clientID, secret: secret, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /keys", f.keys)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /end_session", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("signed out")) })
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIdP) issuer() string { return f.srv.URL }

func (f *fakeIdP) discovery(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                f.issuer(),
		"authorization_endpoint":                f.issuer() + "/authorize",
		"token_endpoint":                        f.issuer() + "/token",
		"jwks_uri":                              f.issuer() + "/keys",
		"end_session_endpoint":                  f.issuer() + "/end_session",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"backchannel_logout_supported":          true,
		"backchannel_logout_session_supported":  true,
	})
}

func (f *fakeIdP) keys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=900")
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &f.key.PublicKey, KeyID: f.kid, Algorithm: string(jose.RS256), Use: "sig"},
	}})
}

// approve plays /authorize for the request in authURL: it checks the
// parameters a hubid client must send, records a code for claims (plus
// iss, aud, nonce, iat, exp) and returns the redirect back to the client.
// edit, if set, may change the ID token claims (e.g. a wrong nonce).
func (f *fakeIdP) approve(authURL string, claims map[string]any, edit func(map[string]any)) string {
	f.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		f.t.Fatal(err)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		f.t.Fatalf("authorization request without code flow + PKCE S256: %s", authURL)
	}
	now := time.Now()
	c := map[string]any{
		"iss": f.issuer(), "aud": q.Get("client_id"), "nonce": q.Get("nonce"),
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
	}
	for k, v := range claims {
		c[k] = v
	}
	if edit != nil {
		edit(c)
	}
	code := rand.Text()
	f.mu.Lock()
	f.codes[code] = grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), claims: c}
	f.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		f.t.Fatal(err)
	}
	back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	return back.String()
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != f.client || secret != f.secret {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	f.mu.Lock()
	g, found := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code"))
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !found, g.clientID != id, g.redirectURI != r.PostForm.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	idt := f.sign(g.claims, "JWT", f.key)
	f.mu.Lock()
	f.issued = append(f.issued, idt)
	f.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 900, "id_token": idt,
	})
}

// lastIDToken returns the last ID token the token endpoint issued.
func (f *fakeIdP) lastIDToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.issued) == 0 {
		f.t.Fatal("no ID token issued")
	}
	return f.issued[len(f.issued)-1]
}

// sign returns claims as a compact JWS signed with key (RS256, kid f.kid,
// so a foreign key is tried against the published one and fails).
func (f *fakeIdP) sign(claims map[string]any, typ string, key *rsa.PrivateKey) string {
	f.t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", f.kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := json.Marshal(claims)
	if err != nil {
		f.t.Fatal(err)
	}
	jws, err := s.Sign(b)
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// logoutToken returns back-channel logout token claims for the client.
func (f *fakeIdP) logoutToken(sub, sid string) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": f.issuer(), "aud": f.client, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti":    rand.Text(),
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	if sub != "" {
		c["sub"] = sub
	}
	if sid != "" {
		c["sid"] = sid
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}
