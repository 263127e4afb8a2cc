package redis

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// openTest returns a Store on the test Redis under a fresh key prefix,
// closed and emptied when tb ends.
func openTest(tb testing.TB, now func() time.Time) *Store {
	addr, prefix := testenv.Redis(tb)
	s := New(goredis.NewClient(&goredis.Options{Addr: addr}), Options{Prefix: prefix, Now: now})
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// TestEphemeral runs the conformance suite twice: revocation checks
// answered by Redis, and by the in-memory mirror (waited for).
func TestEphemeral(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
			addr, prefix := testenv.Redis(t)
			s := newStore(goredis.NewClient(&goredis.Options{Addr: addr}), Options{Prefix: prefix, Now: clock.Now}, false)
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	})
	t.Run("mirrored", func(t *testing.T) {
		storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
			s := openTest(t, clock.Now)
			waitMirror(t, s, true)
			return s
		})
	})
}

func BenchmarkEphemeral(b *testing.B) {
	storetest.BenchEphemeral(b, func(b *testing.B) store.Ephemeral { return openTest(b, nil) })
}
