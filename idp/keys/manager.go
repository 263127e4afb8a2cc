// Package keys manages hubid's token signing keys: their lifecycle (next →
// active → retired → removed), scheduled and manual rotation, sealing at
// rest, and an in-memory snapshot that every token signature and every
// /keys request reads without touching the database.
//
// Replicas share the keys through the durable store. Every change is
// planned by a pure function (lifecycle.go) on the keys read under the
// store's exclusive key lock, so ten replicas reaching a rotation time
// together rotate once. Every committed change is announced (Config.Announce:
// Redis pub/sub in production), and a replica told of a change (Notify)
// reloads at once; a short poll (Run) is the fallback for announcements
// that are lost. A reload swaps the snapshot only when a kid or a state
// changed.
package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/customerhub/hubid/store"
)

// Store is the storage the manager needs (store.KeyStore).
type Store interface {
	ListSigningKeys(ctx context.Context) ([]store.SigningKey, error)
	UpdateSigningKeys(ctx context.Context, fn func([]store.SigningKey) (store.KeyChange, error)) error
}

// Config configures a Manager. Zero values get defaults in New.
type Config struct {
	// Algorithms to keep keys for; RS256 and SigningAlgorithm are always
	// included.
	Algorithms []string
	// SigningAlgorithm is the algorithm tokens are signed with (RS256).
	SigningAlgorithm string
	// RSABits is the size of new RSA keys: 2048 (default), 3072 or 4096.
	// Changing it affects keys created afterwards.
	RSABits int
	Policy  Policy
	Now     func() time.Time // default time.Now
	Rand    io.Reader        // default crypto/rand.Reader
	Logger  *slog.Logger     // default: discard
	// OnChange is called once for every state change, after it has been
	// committed, by the process that made it (see AuditTo).
	OnChange func(ctx context.Context, e Event)
	// Announce, when set, tells the other replicas that the keys changed
	// (they call Notify); it is called once per committed change. An
	// error is logged: the others then see the change on their next poll.
	Announce func(ctx context.Context) error
	// RSASigner, when set, makes the active RS256 keys sign through the
	// signer it returns (idp/keys/opensslsign: OpenSSL's libcrypto) instead
	// of Go's crypto/rsa. It is called once per key, when the key is first
	// loaded as active; an error fails that reload (Ensure, Reload). Only
	// RS256 goes through it; nil signs with crypto/rsa.
	RSASigner func(*rsa.PrivateKey) (jose.OpaqueSigner, error)
}

// Kind is the announcement kind of signing-key changes on the
// invalidation bus (see idp/usercache.Bus).
const Kind = "keys"

// Manager owns the signing keys of one process. It is safe for concurrent
// use.
type Manager struct {
	cfg   Config
	store Store
	seal  Sealer
	gen   Generator
	snap  atomic.Pointer[snapshot]

	reloadMu     sync.Mutex // orders Reloads so an older read never replaces a newer one
	reloadErrors atomic.Uint64

	wake      chan struct{} // Notify -> Run; buffered, one pending wake-up is enough
	changedMu sync.Mutex
	changed   chan struct{} // closed and replaced at every snapshot swap
}

// SigningKey is a private key ready to sign; it satisfies op.SigningKey.
type SigningKey struct {
	kid    string
	alg    jose.SignatureAlgorithm
	key    crypto.Signer
	opaque jose.OpaqueSigner // Config.RSASigner's signer for key, or nil
	signed *atomic.Uint64    // tokens signed with this kid by this process
}

// ID returns the kid.
func (k *SigningKey) ID() string { return k.kid }

// SignatureAlgorithm returns the JOSE algorithm.
func (k *SigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }

// Key returns what go-jose signs with: the Config.RSASigner's
// jose.OpaqueSigner for an RS256 key when one is configured, else the
// private key (a crypto.Signer).
func (k *SigningKey) Key() any {
	if k.opaque != nil {
		return k.opaque
	}
	return k.key
}

// PublicKey is a published key; it satisfies op.Key.
type PublicKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.PublicKey
}

// ID returns the kid.
func (k *PublicKey) ID() string { return k.kid }

// Algorithm returns the JOSE algorithm.
func (k *PublicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }

// Use returns "sig".
func (k *PublicKey) Use() string { return "sig" }

// Key returns the public key.
func (k *PublicKey) Key() any { return k.key }

// snapshot is one immutable view of the keys. Signers and signature
// counters are carried over from the previous snapshot by kid, so a reload
// unseals and parses only keys it has not seen.
type snapshot struct {
	records []store.SigningKey // sorted by CreatedAt, then ID
	active  map[string]*SigningKey
	public  []*PublicKey
	jwks    []byte
	signers map[string]crypto.Signer
	opaque  map[string]jose.OpaqueSigner // Config.RSASigner's, for active RS256 keys
	signed  map[string]*atomic.Uint64
	version uint64 // one more than the snapshot it replaced
}

// New returns a Manager; call Ensure before serving.
func New(cfg Config, st Store, s Sealer) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SigningAlgorithm == "" {
		cfg.SigningAlgorithm = "RS256"
	}
	if cfg.RSABits == 0 {
		cfg.RSABits = 2048
	}
	algs := []string{"RS256"}
	for _, a := range append(slices.Clone(cfg.Algorithms), cfg.SigningAlgorithm) {
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	cfg.Algorithms = algs
	return &Manager{cfg: cfg, store: st, seal: s, gen: NewGenerator(s, cfg.RSABits, cfg.Rand),
		wake: make(chan struct{}, 1), changed: make(chan struct{})}
}

type actorKey struct{}

// WithActor names who asks for the changes made with ctx ("cli",
// "admin-api", ...); logs and audit events carry it. Without it the actor
// is the system (scheduled work).
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the actor set by WithActor, or "".
func ActorOf(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// update runs plan under the store's exclusive key lock, reports the
// committed events and reloads.
func (m *Manager) update(ctx context.Context, plan func([]store.SigningKey) (store.KeyChange, []Event, error)) ([]Event, error) {
	var events []Event
	err := m.store.UpdateSigningKeys(ctx, func(keys []store.SigningKey) (store.KeyChange, error) {
		ch, ev, err := plan(keys)
		events = ev
		return ch, err
	})
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		lvl := slog.LevelInfo
		if e.Forced {
			lvl = slog.LevelWarn
		}
		m.cfg.Logger.LogAttrs(ctx, lvl, "signing key state change",
			slog.String("kid", e.KID), slog.String("alg", e.Algorithm),
			slog.String("from", stateName(e.From)), slog.String("to", stateName(e.To)),
			slog.Bool("forced", e.Forced), slog.String("actor", ActorOf(ctx)))
		if m.cfg.OnChange != nil {
			m.cfg.OnChange(ctx, e)
		}
	}
	if len(events) > 0 && m.cfg.Announce != nil {
		if err := m.cfg.Announce(ctx); err != nil {
			m.cfg.Logger.WarnContext(ctx, "announce signing key change: other replicas see it on their next poll", slog.Any("err", err))
		}
	}
	return events, m.Reload(ctx)
}

// Notify tells the manager that the stored keys changed (another replica's
// announcement): Run reloads at once. It never blocks, so a subscription's
// callback may call it.
func (m *Manager) Notify() {
	select {
	case m.wake <- struct{}{}:
	default: // a reload is pending already
	}
}

// Changed returns a channel closed at the next change of the served keys
// (the next snapshot swap), for tests and watchers.
func (m *Manager) Changed() <-chan struct{} {
	m.changedMu.Lock()
	defer m.changedMu.Unlock()
	return m.changed
}

// stateName names "" for logs: a key that did not exist or no longer does.
func stateName(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Ensure gives every configured algorithm an active and a next key.
func (m *Manager) Ensure(ctx context.Context) error {
	_, err := m.update(ctx, func(keys []store.SigningKey) (store.KeyChange, []Event, error) {
		var all store.KeyChange
		var evs []Event
		now := m.cfg.Now()
		for _, alg := range m.cfg.Algorithms {
			ch, ev, err := PlanEnsure(keys, alg, now, m.gen)
			if err != nil {
				return all, nil, err
			}
			all, evs = merge(all, ch), append(evs, ev...)
		}
		return all, evs, nil
	})
	return err
}

// EnsureAlgorithm gives alg an active and a next key when it lacks them
// (a client's access_token_signing_algorithm asks for a key the
// configuration did not list). From then on the algorithm is rotated with
// the others on every replica (see managed), and published in the JWKS.
func (m *Manager) EnsureAlgorithm(ctx context.Context, alg string) error {
	if !slices.Contains(supported, alg) {
		return fmt.Errorf("keys: unsupported algorithm %q", alg)
	}
	_, err := m.update(ctx, func(keys []store.SigningKey) (store.KeyChange, []Event, error) {
		return PlanEnsure(keys, alg, m.cfg.Now(), m.gen)
	})
	return err
}

// managed returns the algorithms scheduled work covers: the configured
// ones and every algorithm that has an active or next key in the store
// (one added by EnsureAlgorithm on any replica), so each is rotated
// alongside RS256 wherever the rotation runs.
func (m *Manager) managed(keys []store.SigningKey) []string {
	algs := m.cfg.Algorithms
	for _, k := range keys {
		if (k.State == store.KeyActive || k.State == store.KeyNext) && !slices.Contains(algs, k.Algorithm) {
			algs = append(slices.Clip(algs), k.Algorithm)
		}
	}
	return algs
}

// Rotate rotates every configured algorithm now (see PlanRotate). Without
// force it fails with ErrTooEarly, changing nothing, while any next key has
// been published for less than PublishBefore.
func (m *Manager) Rotate(ctx context.Context, force bool) ([]Event, error) {
	return m.update(ctx, func(keys []store.SigningKey) (store.KeyChange, []Event, error) {
		var all store.KeyChange
		var evs []Event
		now := m.cfg.Now()
		for _, alg := range m.managed(keys) {
			ch, ev, err := PlanRotate(keys, alg, now, m.cfg.Policy, force, m.gen)
			if err != nil {
				return all, nil, err
			}
			all, evs = merge(all, ch), append(evs, ev...)
		}
		return all, evs, nil
	})
}

// Tick does the scheduled work once (PlanTick). The decision is taken on
// the keys read under the store's lock, so among replicas reaching the time
// together exactly one rotates; the others find nothing to do.
func (m *Manager) Tick(ctx context.Context) ([]Event, error) {
	return m.update(ctx, func(keys []store.SigningKey) (store.KeyChange, []Event, error) {
		return PlanTick(keys, m.managed(keys), m.cfg.Now(), m.cfg.Policy, m.gen)
	})
}

// RetireNow removes a (compromised) key from the key set at once: tokens it
// signed stop verifying as soon as verifiers refetch /keys. If it was
// active, the next key is promoted; a new next key is created.
func (m *Manager) RetireNow(ctx context.Context, kid string) ([]Event, error) {
	return m.update(ctx, func(keys []store.SigningKey) (store.KeyChange, []Event, error) {
		i := slices.IndexFunc(keys, func(k store.SigningKey) bool { return k.ID == kid })
		if i < 0 {
			return store.KeyChange{}, nil, fmt.Errorf("keys: %s: %w", kid, store.ErrNotFound)
		}
		k, now := keys[i], m.cfg.Now()
		ch := store.KeyChange{Delete: []string{kid}}
		evs := []Event{{KID: kid, Algorithm: k.Algorithm, From: string(k.State), Forced: true, At: now}}
		rest := slices.Delete(slices.Clone(keys), i, i+1)
		ens, ev, err := PlanEnsure(rest, k.Algorithm, now, m.gen)
		if err != nil {
			return ch, nil, err
		}
		return merge(ch, ens), append(evs, ev...), nil
	})
}

// Resealer re-encrypts a sealed blob under the primary KEK and reports
// whether it changed (seal.Keyring satisfies it).
type Resealer interface {
	Reseal(blob, aad []byte) ([]byte, bool, error)
}

// Reseal re-encrypts every stored private key that is sealed under an older
// KEK under the primary KEK, in one transaction under the key lock, and
// returns how many it changed. A key that does not open (a KEK missing from
// the keyring) fails the whole operation and changes nothing.
func (m *Manager) Reseal(ctx context.Context) (int, error) {
	rs, ok := m.seal.(Resealer)
	if !ok {
		return 0, fmt.Errorf("keys: reseal: the sealer (%T) cannot reseal", m.seal)
	}
	var n int
	err := m.store.UpdateSigningKeys(ctx, func(keys []store.SigningKey) (store.KeyChange, error) {
		var ch store.KeyChange
		n = 0
		for _, k := range keys {
			blob, changed, err := rs.Reseal(k.Sealed, AAD(k.ID))
			if err != nil {
				return store.KeyChange{}, fmt.Errorf("keys: reseal %s: %w", k.ID, err)
			}
			if changed {
				k.Sealed = blob
				ch.Put = append(ch.Put, k)
				n++
			}
		}
		return ch, nil
	})
	if err != nil {
		return 0, err
	}
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "signing keys resealed under the primary KEK",
		slog.Int("resealed", n), slog.String("actor", ActorOf(ctx)))
	return n, nil
}

// List returns the stored keys, newest first.
func (m *Manager) List(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].CreatedAt.Equal(keys[j].CreatedAt) {
			return keys[i].CreatedAt.After(keys[j].CreatedAt)
		}
		return keys[i].ID > keys[j].ID
	})
	return keys, nil
}

// Reload reads the keys from the store and swaps the snapshot when a kid or
// a state changed. An unchanged key set costs one query and no allocation
// beyond it; a changed one unseals only the keys not seen before. On error
// the previous snapshot stays in use.
func (m *Manager) Reload(ctx context.Context) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		m.reloadErrors.Add(1)
		return fmt.Errorf("keys: reload: %w", err)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].CreatedAt.Equal(keys[j].CreatedAt) {
			return keys[i].CreatedAt.Before(keys[j].CreatedAt)
		}
		return keys[i].ID < keys[j].ID // every replica serves the same bytes
	})
	old := m.snap.Load()
	if old != nil && sameKeys(old.records, keys) {
		return nil
	}
	s, err := m.build(keys, old)
	if err != nil {
		m.reloadErrors.Add(1)
		return err
	}
	s.version = 1
	if old != nil {
		s.version = old.version + 1
	}
	m.snap.Store(s)
	m.changedMu.Lock()
	close(m.changed)
	m.changed = make(chan struct{})
	m.changedMu.Unlock()
	return nil
}

// sameKeys reports whether two sorted key lists publish and sign alike.
func sameKeys(a, b []store.SigningKey) bool {
	return slices.EqualFunc(a, b, func(x, y store.SigningKey) bool {
		return x.ID == y.ID && x.State == y.State && x.Algorithm == y.Algorithm
	})
}

func (m *Manager) build(keys []store.SigningKey, old *snapshot) (*snapshot, error) {
	s := &snapshot{
		records: keys,
		active:  map[string]*SigningKey{},
		signers: make(map[string]crypto.Signer, len(keys)),
		opaque:  map[string]jose.OpaqueSigner{},
		signed:  make(map[string]*atomic.Uint64, len(keys)),
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		var signer crypto.Signer
		var count *atomic.Uint64
		if old != nil {
			signer, count = old.signers[k.ID], old.signed[k.ID]
		}
		if signer == nil {
			var err error
			if signer, err = unseal(m.seal, k); err != nil {
				return nil, err
			}
		}
		if count == nil {
			count = new(atomic.Uint64)
		}
		s.signers[k.ID], s.signed[k.ID] = signer, count
		alg := jose.SignatureAlgorithm(k.Algorithm)
		s.public = append(s.public, &PublicKey{kid: k.ID, alg: alg, key: signer.Public()})
		set.Keys = append(set.Keys, jose.JSONWebKey{KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig", Key: signer.Public()})
		if k.State == store.KeyActive {
			opaque, err := m.opaqueSigner(k, signer, old)
			if err != nil {
				return nil, err
			}
			s.opaque[k.ID] = opaque
			s.active[k.Algorithm] = &SigningKey{kid: k.ID, alg: alg, key: signer, opaque: opaque, signed: count}
		}
	}
	var err error
	if s.jwks, err = json.Marshal(set); err != nil {
		return nil, fmt.Errorf("keys: marshal jwks: %w", err)
	}
	return s, nil
}

// opaqueSigner returns Config.RSASigner's signer for an active RS256 key
// (the previous snapshot's when it made one for the kid), or nil: no hook,
// or not RS256.
func (m *Manager) opaqueSigner(k store.SigningKey, signer crypto.Signer, old *snapshot) (jose.OpaqueSigner, error) {
	if m.cfg.RSASigner == nil || k.Algorithm != "RS256" {
		return nil, nil
	}
	if old != nil && old.opaque[k.ID] != nil {
		return old.opaque[k.ID], nil
	}
	priv, ok := signer.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keys: %s: an RS256 key holds a %T, not an RSA key", k.ID, signer)
	}
	o, err := m.cfg.RSASigner(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: RSA signer for %s: %w", k.ID, err)
	}
	return o, nil
}

// dryGen stands in for key generation when Run only asks whether a Tick
// would change anything.
func dryGen(alg string, now time.Time) (store.SigningKey, error) {
	return store.SigningKey{ID: "planned", Algorithm: alg, CreatedAt: now}, nil
}

// Run reloads at once when notified (Notify) and on every tick (the
// fallback: a replica whose announcements are lost sees another's change
// within one period) and, when the reloaded keys call for scheduled work,
// does it under the store's lock, until ctx ends. Idle ticks take no lock.
func (m *Manager) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
			if err := m.Reload(ctx); err != nil {
				m.cfg.Logger.WarnContext(ctx, "reload signing keys on announcement", slog.Any("err", err))
			}
		case <-tick:
			m.poll(ctx)
		}
	}
}

// poll reloads and does the scheduled work the keys call for.
func (m *Manager) poll(ctx context.Context) {
	if err := m.Reload(ctx); err != nil {
		m.cfg.Logger.WarnContext(ctx, "reload signing keys", slog.Any("err", err))
		return
	}
	recs := m.snap.Load().records
	ch, _, err := PlanTick(recs, m.managed(recs), m.cfg.Now(), m.cfg.Policy, dryGen)
	if err != nil || len(ch.Put)+len(ch.Delete) == 0 {
		return
	}
	if _, err := m.Tick(ctx); err != nil {
		m.cfg.Logger.WarnContext(ctx, "scheduled signing key work", slog.Any("err", err))
	}
}

// ErrNoKey: no active key for the algorithm (Ensure was not run).
var ErrNoKey = errors.New("keys: no active signing key")

// Signing returns the active key of the configured signing algorithm. The
// OIDC library calls it once per token, so each call counts as one
// signature in hubid_tokens_signed_total.
func (m *Manager) Signing() (*SigningKey, error) { return m.SigningFor(m.cfg.SigningAlgorithm) }

// SigningFor returns the active key of alg and counts one signature.
func (m *Manager) SigningFor(alg string) (*SigningKey, error) {
	if s := m.snap.Load(); s != nil {
		if k := s.active[alg]; k != nil {
			k.signed.Add(1)
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w for %s", ErrNoKey, alg)
}

// Public returns every published key. The slice is shared: do not modify.
func (m *Manager) Public() []*PublicKey {
	if s := m.snap.Load(); s != nil {
		return s.public
	}
	return nil
}

// JWKS returns the published key set as JSON, serialized once per change.
// The bytes are shared: do not modify.
func (m *Manager) JWKS() []byte {
	if s := m.snap.Load(); s != nil {
		return s.jwks
	}
	return []byte(`{"keys":[]}`)
}

// Version counts the changes of the served keys (0 before the first
// load): it moves at every snapshot swap (a kid or a state changed), so
// that what was verified under one version (idp/tokencache) is told apart
// from what the current keys would verify.
func (m *Manager) Version() uint64 {
	if s := m.snap.Load(); s != nil {
		return s.version
	}
	return 0
}

// Algorithms returns the algorithms the keys are kept for: the configured
// ones and those added since (EnsureAlgorithm).
func (m *Manager) Algorithms() []string {
	if s := m.snap.Load(); s != nil {
		return slices.Clone(m.managed(s.records))
	}
	return slices.Clone(m.cfg.Algorithms)
}

// Policy returns the lifecycle timings.
func (m *Manager) Policy() Policy { return m.cfg.Policy }

// Bus carries announcements between replicas: store/redis through
// pub/sub, store/memory within the process (idp/usercache.Bus is the same).
type Bus interface {
	Invalidate(ctx context.Context, kind, id string) error
	OnInvalidate(fn func(kind, id string))
}

// AnnounceOn returns a Config.Announce that publishes on b (nil for a nil
// b: nothing to announce to).
func AnnounceOn(b Bus) func(ctx context.Context) error {
	if b == nil {
		return nil
	}
	return func(ctx context.Context) error { return b.Invalidate(ctx, Kind, "") }
}

// FollowAnnouncements makes m reload at once when b announces a key
// change, or "forget everything" (kind ""), which b announces after it
// (re)subscribes because announcements may have been lost meanwhile.
func FollowAnnouncements(m *Manager, b Bus) {
	if b == nil {
		return
	}
	b.OnInvalidate(func(kind, _ string) {
		if kind == Kind || kind == "" {
			m.Notify()
		}
	})
}
