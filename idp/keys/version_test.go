package keys

import (
	"context"
	"testing"

	"github.com/customerhub/hubid/store/storetest"
)

// TestVersionMovesWithTheKeySet: Version moves when the served keys
// change (a rotation, a key removed at once) and not on a reload that
// finds them unchanged; idp/tokencache relies on it.
func TestVersionMovesWithTheKeySet(t *testing.T) {
	ctx := context.Background()
	kr, _ := newKeyring(t)
	m := New(Config{}, storetest.NewMemKeys(), kr)
	if v := m.Version(); v != 0 {
		t.Fatalf("version %d before the keys are loaded, want 0", v)
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	v1 := m.Version()
	if v1 == 0 {
		t.Fatal("version 0 once keys are loaded")
	}
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if v := m.Version(); v != v1 {
		t.Fatalf("an unchanged reload moved the version from %d to %d", v1, v)
	}
	if _, err := m.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	v2 := m.Version()
	if v2 == v1 {
		t.Fatal("a rotation left the version unchanged")
	}
	k, err := m.Signing()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.RetireNow(ctx, k.ID()); err != nil {
		t.Fatal(err)
	}
	if v := m.Version(); v == v2 {
		t.Fatal("removing a key left the version unchanged")
	}
}
