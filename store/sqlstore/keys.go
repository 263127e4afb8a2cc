package sqlstore

import (
	"context"

	"github.com/customerhub/hubid/store"
)

const keyCols = `id, algorithm, state, sealed, created_at, activated_at, retired_at, remove_after`

func scanKey(r scanner) (store.SigningKey, error) {
	var k store.SigningKey
	err := r.Scan(&k.ID, &k.Algorithm, &k.State, bs(&k.Sealed), ts(&k.CreatedAt),
		ts(&k.ActivatedAt), ts(&k.RetiredAt), ts(&k.RemoveAfter))
	return k, err
}

// ListSigningKeys returns every signing key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	return list(s, ctx, "list signing keys",
		`SELECT `+keyCols+` FROM signing_keys ORDER BY created_at, id`, scanKey)
}

// UpdateSigningKeys runs fn on every key under an exclusive lock and applies
// the change it returns in the same transaction. The lock is the dialect's
// KeyLock (a transaction-scoped advisory lock on PostgreSQL, so exactly one
// replica rotates at a time) or the database write lock of SQLite's BEGIN
// IMMEDIATE. Put inserts or replaces by ID; Delete ignores unknown IDs.
func (s *Store) UpdateSigningKeys(ctx context.Context, fn func(keys []store.SigningKey) (store.KeyChange, error)) error {
	return s.withTx(ctx, func(t *Store) error {
		if t.d.KeyLock != "" {
			if _, err := t.q.Exec(ctx, t.d.KeyLock); err != nil {
				return t.wrap("lock signing keys", err)
			}
		}
		keys, err := list(t, ctx, "update signing keys",
			`SELECT `+keyCols+` FROM signing_keys ORDER BY created_at, id`+t.d.ForUpdate, scanKey)
		if err != nil {
			return err
		}
		change, err := fn(keys)
		if err != nil {
			return err
		}
		now := t.Now()
		for _, k := range change.Put {
			if _, err := t.q.Exec(ctx, `INSERT INTO signing_keys (`+keyCols+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (id) DO UPDATE SET algorithm = excluded.algorithm, state = excluded.state,
				sealed = excluded.sealed, created_at = excluded.created_at,
				activated_at = excluded.activated_at, retired_at = excluded.retired_at,
				remove_after = excluded.remove_after`,
				k.ID, k.Algorithm, string(k.State), blob(k.Sealed), micros(orNow(k.CreatedAt, now)),
				nullMicros(k.ActivatedAt), nullMicros(k.RetiredAt), nullMicros(k.RemoveAfter)); err != nil {
				return t.wrap("put signing key", err)
			}
		}
		for _, id := range change.Delete {
			if _, err := t.q.Exec(ctx, `DELETE FROM signing_keys WHERE id = $1`, id); err != nil {
				return t.wrap("delete signing key", err)
			}
		}
		return nil
	})
}
