package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/customerhub/hubid/store/storetest"
)

// countingSigner stands in for opensslsign: RS256 through crypto/rsa,
// counting its signatures.
type countingSigner struct {
	priv  *rsa.PrivateKey
	signs *atomic.Int64
}

func (c countingSigner) Public() *jose.JSONWebKey { return &jose.JSONWebKey{Key: &c.priv.PublicKey} }
func (c countingSigner) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.RS256}
}
func (c countingSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.RS256 {
		return nil, errors.New("RS256 only")
	}
	c.signs.Add(1)
	h := sha256.Sum256(payload)
	return rsa.SignPKCS1v15(nil, c.priv, crypto.SHA256, h[:])
}

type hookCounts struct{ made, signs atomic.Int64 }

func (h *hookCounts) hook(priv *rsa.PrivateKey) (jose.OpaqueSigner, error) {
	h.made.Add(1)
	return countingSigner{priv: priv, signs: &h.signs}, nil
}

func newHookedManager(t *testing.T, hook func(*rsa.PrivateKey) (jose.OpaqueSigner, error)) (*Manager, *storetest.Clock) {
	t.Helper()
	kr, _ := newKeyring(t)
	clk := storetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := New(Config{
		Algorithms: []string{"RS256", "ES256"}, Now: clk.Now,
		Policy:    Policy{RotationPeriod: 30 * 24 * time.Hour, PublishBefore: 24 * time.Hour, RetireFor: 2 * time.Hour},
		RSASigner: hook,
	}, storetest.NewMemKeys(), kr)
	return m, clk
}

// signAndVerify signs a token the way zitadel/oidc does (op.SignerFromKey)
// and verifies it against the published JWKS, by its kid.
func signAndVerify(t *testing.T, m *Manager, alg string) {
	t.Helper()
	k, err := m.SigningFor(alg)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := op.SignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	kid := parsed.Signatures[0].Header.KeyID
	if kid != k.ID() {
		t.Fatalf("token kid %q, signing key %q", kid, k.ID())
	}
	pub := set.Key(kid)
	if len(pub) != 1 {
		t.Fatalf("kid %s: %d keys in the JWKS", kid, len(pub))
	}
	if got, err := parsed.Verify(pub[0].Key); err != nil || string(got) != `{"sub":"alice"}` {
		t.Fatalf("%s token does not verify against the JWKS: %q, %v", alg, got, err)
	}
}

func TestRSASignerHookSignsRS256(t *testing.T) {
	ctx := context.Background()
	var h hookCounts
	m, clk := newHookedManager(t, h.hook)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if n := h.made.Load(); n != 1 {
		t.Fatalf("the hook made %d signers for one active RS256 key", n)
	}
	k, err := m.Signing()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Key().(jose.OpaqueSigner); !ok {
		t.Fatalf("active RS256 Key() is a %T, not the hook's signer", k.Key())
	}
	signAndVerify(t, m, "RS256")
	signAndVerify(t, m, "RS256")
	if n := h.signs.Load(); n != 2 {
		t.Fatalf("%d signatures through the hook, want 2", n)
	}
	// Back-channel logout tokens pass Key() to go-jose unwrapped.
	bc, err := jose.NewSigner(jose.SigningKey{Algorithm: k.SignatureAlgorithm(), Key: k.Key()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bc.Sign([]byte("{}")); err != nil || h.signs.Load() != 3 {
		t.Fatalf("unwrapped signing: %v, %d signatures through the hook", err, h.signs.Load())
	}

	// ES256 does not go through it.
	es, err := m.SigningFor("ES256")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := es.Key().(*ecdsa.PrivateKey); !ok {
		t.Fatalf("ES256 Key() is a %T", es.Key())
	}
	signAndVerify(t, m, "ES256")
	if n := h.signs.Load(); n != 3 {
		t.Fatalf("an ES256 token went through the RSA hook (%d signatures)", n)
	}

	// Reloads keep the signer of a kid; a rotation makes one for the newly
	// active key only.
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * 24 * time.Hour)
	if _, err := m.Rotate(ctx, false); err != nil {
		t.Fatal(err)
	}
	if n := h.made.Load(); n != 2 {
		t.Fatalf("after one rotation the hook made %d signers, want 2", n)
	}
	k2, _ := m.Signing()
	if k2.ID() == k.ID() {
		t.Fatal("rotation kept the active key")
	}
	signAndVerify(t, m, "RS256")
	if n := h.signs.Load(); n != 4 {
		t.Fatalf("the rotated key signed %d times through the hook, want 4 in all", n-3)
	}
}

func TestRSASignerNilSignsWithCryptoRSA(t *testing.T) {
	m, _ := newHookedManager(t, nil)
	if err := m.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	k, err := m.Signing()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Key().(*rsa.PrivateKey); !ok {
		t.Fatalf("without a hook Key() is a %T, want *rsa.PrivateKey", k.Key())
	}
	signAndVerify(t, m, "RS256")
}

func TestRSASignerErrorFailsTheReload(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("no libcrypto")
	fail := false
	var h hookCounts
	m, clk := newHookedManager(t, func(priv *rsa.PrivateKey) (jose.OpaqueSigner, error) {
		if fail {
			return nil, boom
		}
		return h.hook(priv)
	})
	fail = true
	if err := m.Ensure(ctx); !errors.Is(err, boom) {
		t.Fatalf("Ensure error = %v, want the hook's", err)
	}
	if _, err := m.Signing(); !errors.Is(err, ErrNoKey) {
		t.Fatalf("after a failed first load Signing() = %v, want ErrNoKey (no fallback to crypto/rsa)", err)
	}
	fail = false
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := m.Signing()
	// A rotation whose new active key the hook refuses keeps the previous
	// snapshot: the old key signs on, through the hook.
	fail = true
	clk.Advance(2 * 24 * time.Hour)
	if _, err := m.Rotate(ctx, false); !errors.Is(err, boom) {
		t.Fatalf("Rotate error = %v, want the hook's", err)
	}
	after, _ := m.Signing()
	if after.ID() != before.ID() {
		t.Fatal("a reload the hook failed swapped the keys")
	}
	if _, ok := after.Key().(countingSigner); !ok {
		t.Fatalf("Key() is a %T after a failed reload", after.Key())
	}
}

var _ jose.OpaqueSigner = countingSigner{}
