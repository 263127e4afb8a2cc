package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/customerhub/hubid/store/sqlstore"
)

// Migrator is what both SQL backends expose for migrations.
type Migrator interface {
	Migrate(ctx context.Context) error
	MigrationStatus(ctx context.Context) ([]sqlstore.MigrationStatus, error)
}

// RunMigrationStatus checks a fresh SQL backend's migrations: 0001_init is
// pending before Migrate, Migrate is idempotent, and afterwards every
// migration is applied at the store's clock. open must return a store
// that has not migrated yet, using now as its clock.
func RunMigrationStatus(t *testing.T, open func(t *testing.T, now func() time.Time) Migrator) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := open(t, func() time.Time { return t0 })

	st, err := s.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 || st[0].Version != 1 || st[0].Name != "init" || !st[0].AppliedAt.IsZero() {
		t.Fatalf("status before Migrate: %+v, want 0001_init pending", st)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	st, err = s.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range st {
		if m.Version != i+1 || !m.AppliedAt.Equal(t0) {
			t.Fatalf("status after Migrate: %+v, want all applied at %v", st, t0)
		}
	}
}
