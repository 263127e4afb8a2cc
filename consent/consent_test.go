package consent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/sqlite"
)

func TestDecide(t *testing.T) {
	third := store.Client{ID: "rp"}
	first := store.Client{ID: "hub-app", FirstParty: true}
	grant := &store.ConsentGrant{UserID: "u", ClientID: "rp", Scopes: []string{"email", "profile"}}
	for _, tc := range []struct {
		name      string
		c         store.Client
		g         *store.ConsentGrant
		requested []string
		prompt    []string
		want      []string
	}{
		{"first party never asks", first, nil, []string{"openid", "profile", "offline_access"}, nil, nil},
		{"first party ignores prompt=consent", first, nil, []string{"openid", "email"}, []string{"consent"}, nil},
		{"openid alone needs nothing", third, nil, []string{"openid"}, nil, nil},
		{"no grant asks for all but openid", third, nil, []string{"openid", "profile", "email"}, nil, []string{"profile", "email"}},
		{"offline_access needs consent", third, nil, []string{"openid", "offline_access"}, nil, []string{"offline_access"}},
		{"granted scopes are not asked again", third, grant, []string{"openid", "email", "profile"}, nil, nil},
		{"only the new scope is asked", third, grant, []string{"openid", "email", "roles", "profile"}, nil, []string{"roles"}},
		{"prompt=consent asks for every scope", third, grant, []string{"openid", "email", "profile"}, []string{"consent"}, []string{"email", "profile"}},
		{"prompt=login does not force", third, grant, []string{"openid", "email"}, []string{"login"}, nil},
		{"duplicates and empty scopes", third, nil, []string{"email", "", "email", "openid"}, nil, []string{"email"}},
		{"unknown scopes count", third, grant, []string{"openid", "billing:read"}, nil, []string{"billing:read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.c, tc.g, tc.requested, tc.prompt)
			if !slices.Equal(d.Missing, tc.want) {
				t.Errorf("Missing = %q, want %q", d.Missing, tc.want)
			}
			if d.Needed != (len(tc.want) > 0) {
				t.Errorf("Needed = %v with Missing %q", d.Needed, d.Missing)
			}
		})
	}
}

func TestScopeKey(t *testing.T) {
	for scope, want := range map[string]string{
		"profile":        "consent.scope.profile",
		"email":          "consent.scope.email",
		"offline_access": "consent.scope.offline_access",
		"roles":          "consent.scope.roles",
		"billing:read":   KeyOther,
		"openid":         KeyOther,
		"consent.scope.": KeyOther,
	} {
		if got := ScopeKey(scope); got != want {
			t.Errorf("ScopeKey(%q) = %q, want %q", scope, got, want)
		}
	}
}

// grants is an in-memory Grants.
type grants struct {
	m      map[string]store.ConsentGrant
	getErr error
	puts   int
}

func (f *grants) GetConsent(_ context.Context, userID, clientID string) (store.ConsentGrant, error) {
	if f.getErr != nil {
		return store.ConsentGrant{}, f.getErr
	}
	g, ok := f.m[userID+"|"+clientID]
	if !ok {
		return g, fmt.Errorf("grant %s/%s: %w", userID, clientID, store.ErrNotFound)
	}
	g.Scopes = slices.Clone(g.Scopes)
	return g, nil
}

func (f *grants) PutConsent(_ context.Context, g store.ConsentGrant) error {
	f.puts++
	f.m[g.UserID+"|"+g.ClientID] = g
	return nil
}

func TestRememberMerges(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	st := &grants{m: map[string]store.ConsentGrant{}}

	if err := Remember(ctx, st, "u", "rp", []string{"openid", "profile", "email"}, t0); err != nil {
		t.Fatal(err)
	}
	g := st.m["u|rp"]
	if want := []string{"email", "profile"}; !slices.Equal(g.Scopes, want) {
		t.Fatalf("first grant = %q, want %q (sorted, without openid)", g.Scopes, want)
	}
	if !g.CreatedAt.Equal(t0) || !g.UpdatedAt.Equal(t0) {
		t.Fatalf("first grant times = %v/%v, want %v", g.CreatedAt, g.UpdatedAt, t0)
	}

	if err := Remember(ctx, st, "u", "rp", []string{"offline_access", "email"}, t1); err != nil {
		t.Fatal(err)
	}
	g = st.m["u|rp"]
	if want := []string{"email", "offline_access", "profile"}; !slices.Equal(g.Scopes, want) {
		t.Fatalf("merged grant = %q, want %q", g.Scopes, want)
	}
	if !g.CreatedAt.Equal(t0) || !g.UpdatedAt.Equal(t1) {
		t.Fatalf("merged grant times = %v/%v, want created %v updated %v", g.CreatedAt, g.UpdatedAt, t0, t1)
	}

	// Another client's grant is separate.
	if err := Remember(ctx, st, "u", "other", []string{"roles"}, t1); err != nil {
		t.Fatal(err)
	}
	if got := st.m["u|rp"].Scopes; len(got) != 3 {
		t.Fatalf("grant to rp changed: %q", got)
	}

	// Nothing consentable: no write.
	puts := st.puts
	if err := Remember(ctx, st, "u", "rp", []string{"openid", ""}, t1); err != nil {
		t.Fatal(err)
	}
	if st.puts != puts {
		t.Fatal("Remember wrote a grant for openid alone")
	}
}

func TestRememberReportsStoreErrors(t *testing.T) {
	st := &grants{m: map[string]store.ConsentGrant{}, getErr: store.ErrUnavailable}
	err := Remember(context.Background(), st, "u", "rp", []string{"email"}, time.Now())
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err = %v, want it to wrap store.ErrUnavailable", err)
	}
	if st.puts != 0 {
		t.Fatal("wrote a grant after a failed read")
	}
}

// TestRememberConcurrentInTx grants different scopes of one person to one
// client from many goroutines, each in its own transaction: none is lost.
func TestRememberConcurrentInTx(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hubid.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if err := db.CreateUser(ctx, store.User{ID: "u", Email: "u@example.com", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClient(ctx, store.Client{ID: "rp", Name: "RP", RedirectURIs: []string{"https://rp.example/cb"},
		GrantTypes: []string{"authorization_code"}, AccessTokenType: store.AccessTokenJWT, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.InTx(ctx, func(tx store.Durable) error {
				return Remember(ctx, tx, "u", "rp", []string{fmt.Sprintf("scope%02d", i)}, now)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	g, err := db.GetConsent(ctx, "u", "rp")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Scopes) != n || !slices.IsSorted(g.Scopes) {
		t.Fatalf("grant has %d scopes %q, want %d sorted", len(g.Scopes), g.Scopes, n)
	}
}
