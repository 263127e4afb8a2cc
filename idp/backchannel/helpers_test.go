package backchannel

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/internal/outboxtest"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

// The key manager's keys and Signing method fit this package.
var (
	_ SigningKey = (*keys.SigningKey)(nil)
	_ KeySource  = Keys((*keys.Manager)(nil).Signing)
	_ Store      = (*sqlite.Store)(nil)
	_ Outbox     = store.Durable(nil)
)

const issuer = "https://id.example.test"

func newClock() *storetest.Clock {
	return storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}

// staticKey is a SigningKey for tests.
type staticKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k *staticKey) ID() string                                  { return k.kid }
func (k *staticKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *staticKey) Key() any                                    { return k.key }

func ecKey(t *testing.T, kid string) *staticKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &staticKey{kid: kid, alg: jose.ES256, key: k}
}

func rsaKey(t *testing.T, kid string) *staticKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &staticKey{kid: kid, alg: jose.RS256, key: k}
}

// keyRing is a KeySource whose active key can be swapped (a rotation).
type keyRing struct {
	mu     sync.Mutex
	active *staticKey
}

func (r *keyRing) Signing() (SigningKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active, nil
}

func (r *keyRing) rotate(k *staticKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active = k
}

// delivery is one verified logout token as an RP saw it.
type delivery struct {
	kid, jti, sid, sub, aud string
	iat                     int64
}

// rp is a relying party's back-channel logout endpoint that verifies every
// token against the public keys it knows, as an RP would.
type rp struct {
	t      *testing.T
	clk    *storetest.Clock
	srv    *httptest.Server
	keys   map[string]*staticKey
	mu     sync.Mutex
	got    []delivery
	status func(n int) int // answer to the n-th request (1-based)
	hold   func(r *http.Request)
}

func newRP(t *testing.T, clk *storetest.Clock, ks ...*staticKey) *rp {
	t.Helper()
	p := &rp{t: t, clk: clk, keys: map[string]*staticKey{}, status: func(int) int { return http.StatusOK }}
	for _, k := range ks {
		p.keys[k.kid] = k
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/bcl", p.handle)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *rp) uri() string { return p.srv.URL + "/bcl" }

func (p *rp) deliveries() []delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]delivery(nil), p.got...)
}

func (p *rp) handle(w http.ResponseWriter, r *http.Request) {
	t := p.t
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		t.Errorf("parse form: %v", err)
	}
	d, err := p.verify(r.PostForm.Get("logout_token"))
	if err != nil {
		t.Errorf("logout token: %v", err)
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.got = append(p.got, d)
	n := len(p.got)
	p.mu.Unlock()
	if p.hold != nil {
		p.hold(r)
	}
	w.WriteHeader(p.status(n))
}

// verify checks a logout token as OIDC Back-Channel Logout 1.0 §2.4 asks.
func (p *rp) verify(token string) (delivery, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return delivery{}, err
	}
	if len(jws.Signatures) != 1 {
		return delivery{}, fmt.Errorf("%d signatures", len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "logout+jwt" {
		return delivery{}, fmt.Errorf("typ = %v", typ)
	}
	k := p.keys[h.KeyID]
	if k == nil {
		return delivery{}, fmt.Errorf("unknown kid %q", h.KeyID)
	}
	if h.Algorithm != string(k.alg) {
		return delivery{}, fmt.Errorf("alg = %s, key is %s", h.Algorithm, k.alg)
	}
	body, err := jws.Verify(k.key.Public())
	if err != nil {
		return delivery{}, err
	}
	var c map[string]any
	if err := json.Unmarshal(body, &c); err != nil {
		return delivery{}, err
	}
	if _, ok := c["nonce"]; ok {
		return delivery{}, errors.New("nonce present")
	}
	if c["iss"] != issuer {
		return delivery{}, fmt.Errorf("iss = %v", c["iss"])
	}
	aud, _ := c["aud"].([]any)
	if len(aud) != 1 {
		return delivery{}, fmt.Errorf("aud = %v", c["aud"])
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	if now := p.clk.Now().Unix(); int64(iat) != now || int64(exp) != now+120 {
		return delivery{}, fmt.Errorf("iat, exp = %v, %v; now = %d", c["iat"], c["exp"], now)
	}
	jti, _ := c["jti"].(string)
	if raw, err := base64.RawURLEncoding.DecodeString(jti); err != nil || len(raw) < 16 {
		return delivery{}, fmt.Errorf("jti %q: want ≥128 random bits", jti)
	}
	ev, _ := c["events"].(map[string]any)
	if e, ok := ev[Event].(map[string]any); len(ev) != 1 || !ok || len(e) != 0 {
		return delivery{}, fmt.Errorf("events = %v", c["events"])
	}
	sid, _ := c["sid"].(string)
	sub, _ := c["sub"].(string)
	if sid == "" || sub == "" {
		return delivery{}, fmt.Errorf("sid, sub = %q, %q", sid, sub)
	}
	for name := range c {
		switch name {
		case "iss", "aud", "iat", "exp", "jti", "events", "sid", "sub":
		default:
			return delivery{}, fmt.Errorf("unexpected claim %q", name)
		}
	}
	return delivery{kid: h.KeyID, jti: jti, sid: sid, sub: sub, aud: aud[0].(string), iat: int64(iat)}, nil
}

func createClient(t *testing.T, s store.ClientStore, id, uri string) {
	t.Helper()
	err := s.CreateClient(context.Background(), store.Client{
		ID: id, Name: "Client " + id, RedirectURIs: []string{"https://" + id + ".example/cb"},
		BackchannelLogoutURI: uri, GrantTypes: []string{"authorization_code"},
		AccessTokenType: store.AccessTokenJWT,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func enqueue(t *testing.T, s *sqlite.Store, clk *storetest.Clock, sid string, clients ...string) {
	t.Helper()
	n, err := Enqueue(context.Background(), s, s, issuer, store.Session{ID: sid, UserID: "user-1", Clients: clients}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n != len(clients) {
		t.Fatalf("Enqueue queued %d, want %d", n, len(clients))
	}
}

func newWorker(t *testing.T, s Store, ks KeySource, clk *storetest.Clock, edit func(*Config)) *Worker {
	t.Helper()
	cfg := Config{
		Issuer:  issuer,
		Now:     clk.Now,
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * 10 * time.Second },
	}
	if edit != nil {
		edit(&cfg)
	}
	w, err := NewWorker(s, ks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func runOnce(t *testing.T, w *Worker, wantSent, wantFailed int) {
	t.Helper()
	outboxtest.RunOnce(t, w, wantSent, wantFailed)
}

func outbox(t *testing.T, s *sqlite.Store, id int64) store.OutboxMessage {
	t.Helper()
	return outboxtest.Get(t, s, id)
}
