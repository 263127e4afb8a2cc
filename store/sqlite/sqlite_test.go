package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

// open returns a migrated store on a fresh file, closed at the end.
func open(tb testing.TB, now func() time.Time) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "hubid.db"),
		sqlite.Options{Now: now, Migrate: true})
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
