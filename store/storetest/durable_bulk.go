package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// Bulk is a durable store that bulk-loads users and memberships
// (sqlstore.Store; for seeding large stores).
type Bulk interface {
	store.Durable
	BulkCreateUsers(ctx context.Context, users []store.User) error
	BulkCreateMemberships(ctx context.Context, ms []store.Membership) error
	Analyze(ctx context.Context, tables ...string) error
}

// RunBulk checks bulk loading: more rows than one INSERT batch go in,
// read back as CreateUser's would, and a duplicate fails the whole call.
func RunBulk(t *testing.T, d Bulk) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	org := store.Organization{ID: "bulk-org", Code: "BULK", Name: "Bulk", CreatedAt: now}
	if err := d.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	const n = 1234
	users := make([]store.User, n)
	ms := make([]store.Membership, n)
	for i := range users {
		users[i] = store.User{ID: fmt.Sprintf("bulk-%d", i), Email: fmt.Sprintf("Bulk.%d@Example.com", i),
			EmailVerified: true, Name: "Bulk", PasswordHash: "$argon2id$x", PasswordChangedAt: now, CreatedAt: now}
		ms[i] = store.Membership{UserID: users[i].ID, OrgID: org.ID, Role: store.RoleNormal}
	}
	if err := d.BulkCreateUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	if err := d.BulkCreateMemberships(ctx, ms); err != nil {
		t.Fatal(err)
	}
	u, err := d.GetUserByEmail(ctx, "bulk.1233@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := users[n-1]
	want.UpdatedAt = now // zero UpdatedAt follows CreatedAt
	if u.ID != want.ID || u.Email != want.Email || !u.EmailVerified || u.PasswordHash != want.PasswordHash ||
		!u.PasswordChangedAt.Equal(now) || !u.CreatedAt.Equal(now) || !u.UpdatedAt.Equal(now) {
		t.Fatalf("bulk user read back as %+v, want %+v", u, want)
	}
	got, err := d.ListMembershipsByOrg(ctx, org.ID)
	if err != nil || len(got) != n {
		t.Fatalf("%d memberships, %v; want %d", len(got), err, n)
	}
	if got[0].CreatedAt.IsZero() || got[0].Role != store.RoleNormal {
		t.Fatalf("membership %+v", got[0])
	}
	// Statistics after the load; a name that is not a plain table name
	// is refused before it reaches SQL.
	if err := d.Analyze(ctx, "users", "memberships"); err != nil {
		t.Fatalf("analyze: %v", err)
	}
	for _, bad := range []string{"", "users; DROP TABLE users", "Users", "users memberships"} {
		if err := d.Analyze(ctx, bad); err == nil {
			t.Fatalf("analyze %q: no error", bad)
		}
	}
	if _, err := d.GetUserByEmail(ctx, "bulk.0@example.com"); err != nil {
		t.Fatalf("after refused analyze: %v", err)
	}
	// One clash (the email folds to a taken one) fails the whole call.
	clash := []store.User{{ID: "bulk-new", Email: "x@example.com"}, {ID: "bulk-dup", Email: "BULK.0@example.com"}}
	if err := d.BulkCreateUsers(ctx, clash); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate email: %v, want ErrAlreadyExists", err)
	}
	if _, err := d.GetUser(ctx, "bulk-new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("half a failed bulk insert kept: %v", err)
	}
	if err := d.BulkCreateMemberships(ctx, []store.Membership{{UserID: "nobody", OrgID: org.ID, Role: store.RoleNormal}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("membership of a missing user: %v, want ErrNotFound", err)
	}
}
