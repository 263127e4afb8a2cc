// Package keys manages hubid's token signing keys: their lifecycle (next →
// active → retired → removed), scheduled and manual rotation, sealing at
// rest, and an in-memory snapshot that every token signature and every
// /keys request reads without touching the database.
package keys

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/customerhub/hubid/store"
)

// Store is the storage the manager needs.
type Store interface {
	ListSigningKeys(ctx context.Context) ([]store.SigningKey, error)
	UpdateSigningKeys(ctx context.Context, fn func([]store.SigningKey) (store.KeyChange, error)) error
}

// Config configures a Manager.
type Config struct {
	Algorithms       []string // RS256 always
	SigningAlgorithm string   // the algorithm tokens are signed with
	RSABits          int
	Policy           Policy
	PollInterval     time.Duration // how often replicas reload keys (default 2s)
	Now              func() time.Time
	Rand             io.Reader
	Logger           *slog.Logger
	// OnChange is called for every state change (audit, metrics).
	OnChange func(ctx context.Context, e Event)
}

// Manager owns the signing keys of one process.
type Manager struct {
	cfg   Config
	store Store
	seal  Sealer
	gen   Generator
	snap  atomic.Pointer[snapshot]
}

// SigningKey is a private key ready to sign; it satisfies op.SigningKey.
type SigningKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

// ID returns the kid.
func (k *SigningKey) ID() string { return k.kid }

// SignatureAlgorithm returns the JOSE algorithm.
func (k *SigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }

// Key returns the private key.
func (k *SigningKey) Key() any { return k.key }

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

type snapshot struct {
	version string // kids and states, to detect change
	active  map[string]*SigningKey
	public  []*PublicKey
	jwks    []byte
	records []store.SigningKey
	signers map[string]crypto.Signer // by kid, reused across snapshots
}

// New returns a Manager; call Ensure before serving.
func New(cfg Config, st Store, s Sealer) *Manager {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SigningAlgorithm == "" {
		cfg.SigningAlgorithm = "RS256"
	}
	if !slices.Contains(cfg.Algorithms, "RS256") {
		cfg.Algorithms = append([]string{"RS256"}, cfg.Algorithms...)
	}
	return &Manager{cfg: cfg, store: st, seal: s, gen: NewGenerator(s, cfg.RSABits, cfg.Rand)}
}

// update runs plan under the store's exclusive key lock and reloads.
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
		m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "signing key state change",
			slog.String("kid", e.KID), slog.String("alg", e.Algorithm),
			slog.String("from", e.From), slog.String("to", e.To), slog.Bool("forced", e.Forced))
		if m.cfg.OnChange != nil {
			m.cfg.OnChange(ctx, e)
		}
	}
	return events, m.Reload(ctx)
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

// Rotate rotates every configured algorithm now (see PlanRotate).
func (m *Manager) Rotate(ctx context.Context, force bool) ([]Event, error) {
	return m.update(ctx, func(keys []store.SigningKey) (store.KeyChange, []Event, error) {
		var all store.KeyChange
		var evs []Event
		for _, alg := range m.cfg.Algorithms {
			ch, ev, err := PlanRotate(keys, alg, m.cfg.Now(), m.cfg.Policy, force, m.gen)
			if err != nil {
				return all, nil, err
			}
			all, evs = merge(all, ch), append(evs, ev...)
		}
		return all, evs, nil
	})
}

// Tick does the scheduled work once: rotate algorithms whose active key is
// due (when the next key is ready) and remove expired retired keys. The
// decision is taken under the store's lock, so among replicas reaching the
// time together exactly one rotates.
func (m *Manager) Tick(ctx context.Context) ([]Event, error) {
	return m.update(ctx, func(keys []store.SigningKey) (store.KeyChange, []Event, error) {
		now := m.cfg.Now()
		all, evs := PlanSweep(keys, now)
		for _, alg := range m.cfg.Algorithms {
			if !RotationDue(keys, alg, now, m.cfg.Policy) {
				continue
			}
			ch, ev, err := PlanRotate(keys, alg, now, m.cfg.Policy, false, m.gen)
			if errors.Is(err, ErrTooEarly) {
				continue // the next key becomes ready later; rotate then
			}
			if err != nil {
				return all, nil, err
			}
			all, evs = merge(all, ch), append(evs, ev...)
		}
		return all, evs, nil
	})
}

// RetireNow removes a (compromised) key from the key set at once: tokens it
// signed stop verifying. If it was active, the next key is promoted.
func (m *Manager) RetireNow(ctx context.Context, kid string) ([]Event, error) {
	return m.update(ctx, func(keys []store.SigningKey) (store.KeyChange, []Event, error) {
		i := slices.IndexFunc(keys, func(k store.SigningKey) bool { return k.ID == kid })
		if i < 0 {
			return store.KeyChange{}, nil, fmt.Errorf("keys: %s: %w", kid, store.ErrNotFound)
		}
		k := keys[i]
		ch := store.KeyChange{Delete: []string{kid}}
		evs := []Event{{KID: kid, Algorithm: k.Algorithm, From: string(k.State), Forced: true}}
		rest := slices.Delete(slices.Clone(keys), i, i+1)
		ens, ev, err := PlanEnsure(rest, k.Algorithm, m.cfg.Now(), m.gen)
		if err != nil {
			return ch, nil, err
		}
		return merge(ch, ens), append(evs, ev...), nil
	})
}

// List returns the stored keys, newest first.
func (m *Manager) List(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := m.store.ListSigningKeys(ctx)
	sort.Slice(keys, func(i, j int) bool { return keys[i].CreatedAt.After(keys[j].CreatedAt) })
	return keys, err
}

// Reload reads the keys from the store and swaps the snapshot if they
// changed.
func (m *Manager) Reload(ctx context.Context) error {
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].CreatedAt.Equal(keys[j].CreatedAt) {
			return keys[i].CreatedAt.Before(keys[j].CreatedAt)
		}
		return keys[i].ID < keys[j].ID // every replica serves the same bytes
	})
	var v strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&v, "%s:%s;", k.ID, k.State)
	}
	old := m.snap.Load()
	if old != nil && old.version == v.String() {
		return nil
	}
	s := &snapshot{version: v.String(), active: map[string]*SigningKey{}, records: keys, signers: map[string]crypto.Signer{}}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		signer, ok := (crypto.Signer)(nil), false
		if old != nil {
			signer, ok = old.signers[k.ID]
		}
		if !ok {
			if signer, err = unseal(m.seal, k); err != nil {
				return err
			}
		}
		s.signers[k.ID] = signer
		alg := jose.SignatureAlgorithm(k.Algorithm)
		s.public = append(s.public, &PublicKey{kid: k.ID, alg: alg, key: signer.Public()})
		set.Keys = append(set.Keys, jose.JSONWebKey{KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig", Key: signer.Public()})
		if k.State == store.KeyActive {
			s.active[k.Algorithm] = &SigningKey{kid: k.ID, alg: alg, key: signer}
		}
	}
	if s.jwks, err = json.Marshal(set); err != nil {
		return fmt.Errorf("keys: marshal jwks: %w", err)
	}
	m.snap.Store(s)
	return nil
}

// Run reloads every PollInterval and does the scheduled work, until ctx ends.
func (m *Manager) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			if err := m.Reload(ctx); err != nil {
				m.cfg.Logger.WarnContext(ctx, "reload signing keys", slog.Any("err", err))
				continue
			}
			s := m.snap.Load()
			due := false
			for _, alg := range m.cfg.Algorithms {
				due = due || RotationDue(s.records, alg, m.cfg.Now(), m.cfg.Policy)
			}
			_, sweep := PlanSweep(s.records, m.cfg.Now())
			if due || len(sweep) > 0 {
				if _, err := m.Tick(ctx); err != nil {
					m.cfg.Logger.WarnContext(ctx, "scheduled key rotation", slog.Any("err", err))
				}
			}
		}
	}
}

// ErrNoKey: no active key for the algorithm (Ensure was not run).
var ErrNoKey = errors.New("keys: no active signing key")

// Signing returns the active key of the configured signing algorithm.
func (m *Manager) Signing() (*SigningKey, error) { return m.SigningFor(m.cfg.SigningAlgorithm) }

// SigningFor returns the active key of alg.
func (m *Manager) SigningFor(alg string) (*SigningKey, error) {
	if s := m.snap.Load(); s != nil {
		if k := s.active[alg]; k != nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w for %s", ErrNoKey, alg)
}

// Public returns every published key.
func (m *Manager) Public() []*PublicKey {
	if s := m.snap.Load(); s != nil {
		return s.public
	}
	return nil
}

// JWKS returns the published key set as JSON, serialized once per change.
func (m *Manager) JWKS() []byte {
	if s := m.snap.Load(); s != nil {
		return s.jwks
	}
	return []byte(`{"keys":[]}`)
}

// Algorithms returns the configured algorithms.
func (m *Manager) Algorithms() []string { return m.cfg.Algorithms }
