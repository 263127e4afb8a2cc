package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/postgres"
	"github.com/customerhub/hubid/store/storetest"
)

// open returns a migrated store in a fresh schema, closed (and the schema
// dropped) at the end; it skips when PostgreSQL is unreachable.
func open(tb testing.TB, now func() time.Time) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), testenv.Postgres(tb), postgres.Options{Now: now, Migrate: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T, now func() time.Time) store.Durable { return open(t, now) })
}

func BenchmarkGetUserByEmail(b *testing.B) { storetest.BenchGetUserByEmail(b, open(b, nil)) }
func BenchmarkGetClient(b *testing.B)      { storetest.BenchGetClient(b, open(b, nil)) }

func TestBulk(t *testing.T) { storetest.RunBulk(t, open(t, nil)) }
