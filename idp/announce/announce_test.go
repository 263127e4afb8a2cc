package announce

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// recordingBus records what is announced and fails with err.
type recordingBus struct {
	mu   sync.Mutex
	sent []string
	err  error
}

func (b *recordingBus) Invalidate(_ context.Context, kind, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, kind+"/"+id)
	return b.err
}

// take returns what was announced since the last take.
func (b *recordingBus) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.sent
	b.sent = nil
	return out
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestNotifyingAnnouncesCommittedWrites: writes announce after they
// succeed; inside InTx, after the outermost commit, and not at all on
// rollback or failure.
func TestNotifyingAnnouncesCommittedWrites(t *testing.T) {
	ctx := context.Background()
	bus := &recordingBus{}
	d := Notifying(storetest.OpenSQLite(t, time.Now), bus, nil)
	if Notifying(d, bus, nil) != d {
		t.Fatal("wrapping twice wrapped twice")
	}
	for _, id := range []string{"u1", "u2", "u3"} {
		mustDo(t, "create user", d.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", CreatedAt: time.Now(), UpdatedAt: time.Now()}))
	}
	if got := bus.take(); len(got) != 0 {
		t.Fatalf("creating users announced %v", got)
	}
	noop := func(*store.User) error { return nil }
	_, err := d.UpdateUser(ctx, "u1", noop)
	mustDo(t, "update user", err)
	if _, err := d.UpdateUser(ctx, "nobody", noop); err == nil {
		t.Fatal("update of an unknown user succeeded")
	}
	if got, want := bus.take(), []string{"user/u1"}; !slices.Equal(got, want) {
		t.Fatalf("after UpdateUser: %v, want %v", got, want)
	}

	boom := errors.New("boom")
	err = d.InTx(ctx, func(tx store.Durable) error {
		if _, err := tx.UpdateUser(ctx, "u2", noop); err != nil {
			return err
		}
		return boom
	})
	if got := bus.take(); !errors.Is(err, boom) || len(got) != 0 {
		t.Fatalf("rolled back: %v, announced %v", err, got)
	}

	err = d.InTx(ctx, func(tx store.Durable) error {
		if _, err := tx.UpdateUser(ctx, "u2", noop); err != nil {
			return err
		}
		if got := bus.take(); len(got) != 0 {
			t.Errorf("announced before commit: %v", got)
		}
		return tx.InTx(ctx, func(tx store.Durable) error { return tx.DeleteUser(ctx, "u3") })
	})
	if got, want := bus.take(), []string{"user/u2", "user/u3"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("committed: %v, announced %v, want %v", err, got, want)
	}
}

// TestClaimsWritesAreAnnounced: every write that changes what the claims
// read returns announces it: a membership or a legacy link for its
// person, an organization, an entitlement or a service for everyone.
func TestClaimsWritesAreAnnounced(t *testing.T) {
	ctx := context.Background()
	bus := &recordingBus{}
	d := Notifying(storetest.OpenSQLite(t, time.Now), bus, nil)
	now := time.Now()
	mustDo(t, "create user", d.CreateUser(ctx, store.User{ID: "u1", Email: "u1@example.com", CreatedAt: now, UpdatedAt: now}))
	mustDo(t, "create organization", d.CreateOrganization(ctx, store.Organization{ID: "o1", Code: "AA01", Name: "A", CreatedAt: now}))
	mustDo(t, "create service", d.CreateService(ctx, store.Service{ID: "s1", Code: "SHIPS", Name: "Ships", CreatedAt: now}))
	if got := bus.take(); len(got) != 0 {
		t.Fatalf("creations announced %v", got)
	}
	user, everyone := []string{"claims/u1"}, []string{"claims/*"}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"PutMembership", func() error {
			return d.PutMembership(ctx, store.Membership{UserID: "u1", OrgID: "o1", Role: store.RoleNormal, CreatedAt: now})
		}, user},
		{"SetMembershipRole", func() error { _, err := d.SetMembershipRole(ctx, "u1", "o1", store.RoleVisitor); return err }, user},
		{"PutEntitlement", func() error {
			return d.PutEntitlement(ctx, store.Entitlement{OrgID: "o1", ServiceID: "s1", CreatedAt: now})
		}, everyone},
		{"UpdateOrganization", func() error {
			_, err := d.UpdateOrganization(ctx, "o1", func(o *store.Organization) error { o.Name = "A2"; return nil })
			return err
		}, everyone},
		{"SetOrganizationRequireMFA", func() error { return d.SetOrganizationRequireMFA(ctx, "o1", true) }, everyone},
		{"DeleteEntitlement", func() error { return d.DeleteEntitlement(ctx, "o1", "s1") }, everyone},
		{"RemoveMembership", func() error { _, err := d.RemoveMembership(ctx, "u1", "o1"); return err }, user},
		{"CreateMembership", func() error {
			return d.CreateMembership(ctx, store.Membership{UserID: "u1", OrgID: "o1", Role: store.RoleNormal, CreatedAt: now})
		}, user},
		{"DeleteMembership", func() error { return d.DeleteMembership(ctx, "u1", "o1") }, user},
		{"CreateLegacyLoginID (not a link)", func() error {
			return d.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: "L1", ServiceID: "s1", OrgID: "o1", CreatedAt: now})
		}, nil},
		{"CreateLegacyLink", func() error {
			return d.CreateLegacyLink(ctx, store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "L1", LinkedAt: now})
		}, user},
		{"DeleteLegacyLink", func() error { return d.DeleteLegacyLink(ctx, "u1", "s1") }, user},
		{"LinkLegacyLoginID", func() error {
			return d.LinkLegacyLoginID(ctx, store.LegacyLink{UserID: "u1", ServiceID: "s1", LoginID: "L1", LinkedAt: now},
				func(store.Organization, []store.Membership) (*store.Membership, error) { return nil, nil })
		}, user},
		{"DeleteService", func() error { return d.DeleteService(ctx, "s1") }, everyone},
		{"DeleteOrganization", func() error { return d.DeleteOrganization(ctx, "o1") }, everyone},
		{"DeleteOrganization again (fails)", func() error {
			if err := d.DeleteOrganization(ctx, "o1"); err == nil {
				return errors.New("deleting a deleted organization succeeded")
			}
			return nil
		}, nil},
	}
	for _, st := range steps {
		mustDo(t, st.name, st.do())
		if got := bus.take(); !slices.Equal(got, st.want) {
			t.Errorf("%s announced %v, want %v", st.name, got, st.want)
		}
	}
}

// TestFailedAnnouncementIsLogged: the write stands (it is committed) and
// the operator learns that other replicas may serve the old record.
func TestFailedAnnouncementIsLogged(t *testing.T) {
	ctx := context.Background()
	bus := &recordingBus{err: errors.New("redis down")}
	var logs strings.Builder
	d := Notifying(storetest.OpenSQLite(t, time.Now), bus, slog.New(slog.NewTextHandler(&logs, nil)))
	mustDo(t, "create user", d.CreateUser(ctx, store.User{ID: "u1", Email: "u1@example.com", CreatedAt: time.Now(), UpdatedAt: time.Now()}))
	if _, err := d.UpdateUser(ctx, "u1", func(u *store.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatalf("a failed announcement failed the committed write: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "kind=user id=u1") {
		t.Fatalf("no warning naming the user:\n%s", l)
	}
}
