// Package keysit_test runs signing-key rotation against whole in-process
// hubid servers: tokens minted through the real token endpoint and verified
// by an independent verifier (coreos/go-oidc) over /keys, replicas sharing
// one PostgreSQL schema, and emergency retirement.
package keysit_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/customerhub/hubid/idp"
	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/seal"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/memory"
	"github.com/customerhub/hubid/store/storetest"
)

func newClock() *storetest.Clock { return storetest.NewClock(time.Now().Truncate(time.Second)) }

// secrets are what replicas of one deployment share: the KEK.
type secrets struct {
	kek  seal.KEK
	ring *seal.Keyring
}

func newSecrets(t testing.TB) secrets {
	t.Helper()
	var k [32]byte
	_, _ = rand.Read(k[:])
	kek := seal.NewKEK(k)
	kr, err := seal.NewKeyring(kek)
	if err != nil {
		t.Fatal(err)
	}
	return secrets{kek: kek, ring: kr}
}

// instance is one running hubid replica.
type instance struct {
	URL    string
	Server *idp.Server
	Config config.Config
}

// startInstance runs a hubid on durable (shared between instances) with
// its own memory ephemeral store, the given clock, and an httptest server
// whose URL is the issuer.
func startInstance(t testing.TB, durable store.Durable, durName string, sec secrets, clk *storetest.Clock, adjust func(*config.Config)) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ts := hubtest.UnstartedServer(t)
	addr := ts.Listener.Addr().String()
	c := config.Defaults()
	c.Issuer = "http://" + addr
	c.Listen.HTTP, c.Listen.Metrics = addr, ""
	if adjust != nil {
		adjust(&c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	mem := memory.New(memory.Options{Now: clk.Now})
	t.Cleanup(func() { _ = mem.Close() })
	srv, err := idp.New(ctx, idp.Deps{
		Config: c, Durable: durable, DurableName: durName, Ephemeral: mem, EphemeralName: "memory",
		Sealer: sec.ring, CryptoSecret: sec.kek.Key[:], Hasher: hubtest.FastHasher(),
		Now: clk.Now, Rand: rand.Reader, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Public()
	ts.Start()
	t.Cleanup(ts.Close)
	return &instance{URL: c.Issuer, Server: srv, Config: c}
}

// addService registers a confidential client_credentials client with a
// JWT access token and returns its secret.
func addService(t testing.TB, d store.Durable, id string) string {
	t.Helper()
	secret := base64.RawURLEncoding.EncodeToString([]byte(id + "-secret-0123456789abcdefghijklmnop"))
	now := time.Now()
	c := store.Client{ID: id, Name: id, SecretHash: clients.HashSecret(secret),
		GrantTypes: []string{"client_credentials"}, AccessTokenType: store.AccessTokenJWT, CreatedAt: now, UpdatedAt: now}
	if err := clients.Validate(c); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return secret
}

// mint gets a JWT access token from the token endpoint with
// client_credentials.
func mint(ctx context.Context, hc *http.Client, issuer, id, secret string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %s: %s", resp.Status, b)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || strings.Count(tok.AccessToken, ".") != 2 {
		return "", fmt.Errorf("not a JWT access token: %s", b)
	}
	return tok.AccessToken, nil
}

// kidOf returns the kid in a JWT's header, or "" if it has none. It does
// not fail the test, so workers may call it.
func kidOf(jwt string) string {
	head, _, _ := strings.Cut(jwt, ".")
	h, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(h, &hdr)
	return hdr.Kid
}

// verifier is an independent relying party: go-oidc with a fresh remote
// key set (it refetches /keys when it meets an unknown kid). The access
// token is a JWT whose audience is the client, so the client ID check is
// skipped.
func verifier(issuer string, clk *storetest.Clock) *oidc.IDTokenVerifier {
	ks := oidc.NewRemoteKeySet(context.Background(), issuer+"/keys")
	return oidc.NewVerifier(issuer, ks, &oidc.Config{SkipClientIDCheck: true, Now: clk.Now,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256, oidc.EdDSA}})
}

// getKeys fetches /keys and returns the body and Cache-Control.
func getKeys(t testing.TB, issuer string) (string, string) {
	t.Helper()
	resp, err := http.Get(issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/keys: %s %v", resp.Status, err)
	}
	return string(b), resp.Header.Get("Cache-Control")
}

// jwksKids returns the kids of a JWKS document, in order.
func jwksKids(t testing.TB, body string) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}
