package sqlite_test

import (
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T, now func() time.Time) store.Durable { return storetest.OpenSQLite(t, now) })
}

func BenchmarkGetUserByEmail(b *testing.B) {
	storetest.BenchGetUserByEmail(b, storetest.OpenSQLite(b, nil))
}

func BenchmarkGetClient(b *testing.B) {
	storetest.BenchGetClient(b, storetest.OpenSQLite(b, nil))
}

func TestBulk(t *testing.T) { storetest.RunBulk(t, storetest.OpenSQLite(t, nil)) }
