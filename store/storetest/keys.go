package storetest

import (
	"context"
	"sync"

	"github.com/customerhub/hubid/store"
)

// MemKeys is a minimal in-memory signing-key store for unit tests of key
// consumers; the conformance suite tests the real backends' KeyStore.
type MemKeys struct {
	mu   sync.Mutex
	keys map[string]store.SigningKey
}

// NewMemKeys returns an empty MemKeys.
func NewMemKeys() *MemKeys { return &MemKeys{keys: map[string]store.SigningKey{}} }

// ListSigningKeys returns every key.
func (m *MemKeys) ListSigningKeys(context.Context) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.SigningKey, 0, len(m.keys))
	for _, k := range m.keys {
		out = append(out, k)
	}
	return out, nil
}

// UpdateSigningKeys runs fn under the lock and applies its change.
func (m *MemKeys) UpdateSigningKeys(_ context.Context, fn func([]store.SigningKey) (store.KeyChange, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := make([]store.SigningKey, 0, len(m.keys))
	for _, k := range m.keys {
		cur = append(cur, k)
	}
	ch, err := fn(cur)
	if err != nil {
		return err
	}
	for _, k := range ch.Put {
		m.keys[k.ID] = k
	}
	for _, id := range ch.Delete {
		delete(m.keys, id)
	}
	return nil
}
