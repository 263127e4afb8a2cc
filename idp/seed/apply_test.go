package seed

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/clients"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/sqlite"
	"github.com/customerhub/hubid/store/storetest"
)

var t0 = time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)

func newStore(t *testing.T) *sqlite.Store {
	t.Helper()
	return storetest.OpenSQLite(t, func() time.Time { return t0 })
}

// countingReader counts the bytes read through it (the hasher reads one
// salt per hash).
type countingReader struct {
	mu sync.Mutex
	n  int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	c.n += len(p)
	c.mu.Unlock()
	return rand.Read(p)
}

func (c *countingReader) hashes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n / int(testParams.SaltLen)
}

// testParams are cheap argon2id parameters.
var testParams = password.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 16, SaltLen: 8}

func testOptions(salts *countingReader, env map[string]string) Options {
	return Options{
		Hasher: &password.Hasher{Params: testParams, Rand: salts},
		Now:    func() time.Time { return t0 },
		Rand:   rand.Reader,
		Getenv: func(k string) string { return env[k] },
	}
}

func mustParse(t *testing.T, in string) *File {
	t.Helper()
	f, err := Parse([]byte(in), "seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// dump renders everything the store holds about the records of f (and all
// organizations, services and clients) for comparison.
func dump(t *testing.T, d store.Durable, f *File) string {
	t.Helper()
	ctx := context.Background()
	var out []any
	add := func(v any, err error) {
		t.Helper()
		if errors.Is(err, store.ErrNotFound) {
			v = "not found"
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	orgs, err := d.ListOrganizations(ctx)
	add(orgs, err)
	for _, o := range orgs {
		add(d.ListEntitlementsByOrg(ctx, o.ID))
		add(d.ListMembershipsByOrg(ctx, o.ID))
	}
	add(d.ListServices(ctx))
	add(d.ListClients(ctx))
	for _, u := range f.Users {
		add(d.GetUserByEmail(ctx, u.Email))
	}
	for _, l := range f.LegacyLoginIDs {
		s, err := d.GetServiceByCode(ctx, l.Service)
		if err == nil {
			add(d.GetLegacyLoginID(ctx, s.ID, l.LoginID))
		}
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var idRE = regexp.MustCompile(`^[a-z2-7]{26}$`)

func TestApplyDevSeedTwice(t *testing.T) {
	ctx := context.Background()
	d := newStore(t)
	f := mustParse(t, readDevSeed(t))
	salts := &countingReader{}
	opt := testOptions(salts, nil)

	sum, err := Apply(ctx, d, f, opt)
	if err != nil {
		t.Fatal(err)
	}
	// 3 orgs, 2 services, 4 entitlements, 4 users, 5 memberships, 2 clients, 3 legacy IDs.
	if sum != (Summary{Created: 23}) || sum.String() != "23 created, 0 unchanged" {
		t.Fatalf("first apply: %v", sum)
	}
	if n := salts.hashes(); n != 7 {
		t.Errorf("first apply hashed %d passwords, want 7 (4 users, 3 legacy IDs)", n)
	}
	before := dump(t, d, f)

	sum, err = Apply(ctx, d, f, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Unchanged: 23}) || sum.String() != "0 created, 23 unchanged" {
		t.Fatalf("second apply: %v", sum)
	}
	if n := salts.hashes(); n != 7 {
		t.Errorf("second apply hashed %d more passwords, want none", n-7)
	}
	if after := dump(t, d, f); after != before {
		t.Fatalf("second apply changed the store:\nbefore %s\nafter %s", before, after)
	}

	// What was written is what the file says.
	admin, err := d.GetUserByEmail(ctx, "ADMIN@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	if !idRE.MatchString(admin.ID) || admin.Name != "Aiko Administrator" || !admin.EmailVerified || admin.Locale != "en" {
		t.Errorf("admin = %+v", admin)
	}
	if ok, _, err := opt.Hasher.Verify("hubid-demo-password", admin.PasswordHash); !ok || err != nil {
		t.Errorf("admin password does not verify: %v, %v", ok, err)
	}
	org, err := d.GetOrganizationByCode(ctx, "NK0001")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := d.ListMembershipsByUser(ctx, admin.ID)
	if err != nil || len(ms) != 1 || ms[0].OrgID != org.ID || ms[0].Role != store.RoleAdministrator {
		t.Errorf("admin memberships = %+v, %v", ms, err)
	}
	ents, err := d.ListEntitlementsByOrg(ctx, org.ID)
	if err != nil || len(ents) != 2 {
		t.Errorf("entitlements = %+v, %v", ents, err)
	}
	c, err := d.GetClient(ctx, "nk-ships-demo")
	if err != nil {
		t.Fatal(err)
	}
	ships, err := d.GetServiceByCode(ctx, "nk-ships")
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretHash != clients.HashSecret(f.Clients[0].Secret) || c.ServiceID != ships.ID || !c.FirstParty ||
		c.BackchannelLogoutURI != "http://localhost:9001/backchannel-logout" || len(c.RedirectURIs) != 1 {
		t.Errorf("client = %+v", c)
	}
	l, err := d.GetLegacyLoginID(ctx, ships.ID, "NKS-0001")
	if err != nil || l.OrgID != org.ID {
		t.Fatalf("legacy login ID = %+v, %v", l, err)
	}
	if ok, _, err := opt.Hasher.Verify("legacy-demo-password", l.PasswordHash); !ok || err != nil {
		t.Errorf("legacy password does not verify: %v, %v", ok, err)
	}
}

func TestApplyAllOrNothingOnUnknownReference(t *testing.T) {
	ctx := context.Background()
	d := newStore(t)
	in := `organizations:
  - code: ACME
    name: Acme
users:
  - email: a@example.com
    name: A
    password: password-a
    memberships: [{org: ACME, role: normal}, {org: GHOST, role: visitor}]
clients:
  - id: ok
    name: OK
    public: true
    redirect_uris: [https://ok.example.com/cb]
    grant_types: [authorization_code]
  - id: last
    name: Last
    service: no-such-service
    public: true
    redirect_uris: [https://last.example.com/cb]
    grant_types: [authorization_code]
`
	f := mustParse(t, in) // unknown codes may be in the store: Parse cannot tell
	_, err := Apply(ctx, d, f, testOptions(&countingReader{}, nil))
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := `seed.yaml:8: users[0].memberships[1].org: unknown organization "GHOST": not in the file nor in the store
seed.yaml:17: clients[1].service: unknown service "no-such-service": not in the file nor in the store`
	if err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	assertEmpty(t, d, f)
}

// failOn is a store whose CreateLegacyLoginID fails, inside or outside a
// transaction.
type failOn struct {
	store.Durable
	err error
}

func (s failOn) InTx(ctx context.Context, fn func(tx store.Durable) error) error {
	return s.Durable.InTx(ctx, func(tx store.Durable) error { return fn(failOn{tx, s.err}) })
}

func (s failOn) CreateLegacyLoginID(context.Context, store.LegacyLoginID) error { return s.err }

func TestApplyRollsBackWhenAWriteFails(t *testing.T) {
	d := newStore(t)
	f := mustParse(t, readDevSeed(t))
	boom := errors.New("disk on fire")
	_, err := Apply(context.Background(), failOn{d, boom}, f, testOptions(&countingReader{}, nil))
	if !errors.Is(err, boom) {
		t.Fatalf("want the write error, got %v", err)
	}
	if want := "seed.yaml:91: legacy_login_ids[0]: create legacy login ID: disk on fire"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	assertEmpty(t, d, f)
}

// assertEmpty checks that the store holds none of f's records.
func assertEmpty(t *testing.T, d store.Durable, f *File) {
	t.Helper()
	ctx := context.Background()
	if orgs, err := d.ListOrganizations(ctx); err != nil || len(orgs) != 0 {
		t.Errorf("organizations after failed apply: %+v, %v", orgs, err)
	}
	if svcs, err := d.ListServices(ctx); err != nil || len(svcs) != 0 {
		t.Errorf("services after failed apply: %+v, %v", svcs, err)
	}
	if cs, err := d.ListClients(ctx); err != nil || len(cs) != 0 {
		t.Errorf("clients after failed apply: %+v, %v", cs, err)
	}
	for _, u := range f.Users {
		if _, err := d.GetUserByEmail(ctx, u.Email); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user %s after failed apply: %v", u.Email, err)
		}
	}
}

func TestApplyResolvesReferencesInTheStore(t *testing.T) {
	ctx := context.Background()
	d := newStore(t)
	opt := testOptions(&countingReader{}, nil)
	first := mustParse(t, "organizations: [{code: ACME, name: Acme}]\nservices: [{code: shop, name: Shop}]\n")
	if sum, err := Apply(ctx, d, first, opt); err != nil || sum.Created != 2 {
		t.Fatalf("first: %v, %v", sum, err)
	}
	second := mustParse(t, `entitlements: [{org: ACME, service: shop}]
users:
  - email: b@example.com
    name: B
    password: password-b
    memberships: [{org: ACME, role: administrator}]
legacy_login_ids: [{login_id: L1, service: shop, org: ACME, password: legacy-pw}]
clients:
  - id: shop-web
    name: Shop
    service: shop
    secret_hash: `+clients.HashSecret("s")+`
    grant_types: [client_credentials]
`)
	sum, err := Apply(ctx, d, second, opt)
	if err != nil || sum != (Summary{Created: 5}) {
		t.Fatalf("second: %v, %v", sum, err)
	}
	c, err := d.GetClient(ctx, "shop-web")
	if err != nil || c.SecretHash != clients.HashSecret("s") {
		t.Errorf("client = %+v, %v", c, err)
	}
	if sum, err := Apply(ctx, d, second, opt); err != nil || sum != (Summary{Unchanged: 5}) {
		t.Fatalf("again: %v, %v", sum, err)
	}
}

func TestApplyLeavesExistingRecordsAlone(t *testing.T) {
	ctx := context.Background()
	d := newStore(t)
	opt := testOptions(&countingReader{}, nil)
	f := mustParse(t, readDevSeed(t))
	if _, err := Apply(ctx, d, f, opt); err != nil {
		t.Fatal(err)
	}
	// An administrator changes things after the seed.
	u, err := d.GetUserByEmail(ctx, "normal@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateUser(ctx, u.ID, func(u *store.User) error { u.Name = "Renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	org, err := d.GetOrganizationByCode(ctx, "NK0001")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.PutMembership(ctx, store.Membership{UserID: u.ID, OrgID: org.ID, Role: store.RoleVisitor}); err != nil {
		t.Fatal(err)
	}
	before := dump(t, d, f)
	sum, err := Apply(ctx, d, f, opt)
	if err != nil || sum.Created != 0 {
		t.Fatalf("re-apply: %v, %v", sum, err)
	}
	if after := dump(t, d, f); after != before {
		t.Fatalf("re-apply overwrote changes:\nbefore %s\nafter %s", before, after)
	}
	// A membership added to the file for an existing user is created.
	f.Users[1].Memberships = append(f.Users[1].Memberships, Membership{Org: "NK0003", Role: store.RoleNormal})
	f.Organizations = append(f.Organizations, Organization{Code: "NK0003", Name: "Third"})
	if sum, err := Apply(ctx, d, f, opt); err != nil || sum.Created != 2 {
		t.Fatalf("new membership: %v, %v", sum, err)
	}
	ms, err := d.ListMembershipsByUser(ctx, u.ID)
	if err != nil || len(ms) != 2 {
		t.Errorf("memberships = %+v, %v", ms, err)
	}
}

func TestApplyEnvSecrets(t *testing.T) {
	ctx := context.Background()
	in := `services: [{code: api, name: API}]
users:
  - email: ops@example.com
    name: Ops
    password_env: HUBID_OPS_PASSWORD
clients:
  - id: api-batch
    name: Batch
    service: api
    secret_env: HUBID_BATCH_SECRET
    grant_types: [client_credentials]
`
	f := mustParse(t, in)
	secret := strings.Repeat("k", clients.MinSecretLength)

	// Missing or short variables: every one reported, nothing written.
	d := newStore(t)
	_, err := Apply(ctx, d, f, testOptions(&countingReader{}, map[string]string{"HUBID_OPS_PASSWORD": "short"}))
	want := `seed.yaml:5: users[0].password_env: the value of HUBID_OPS_PASSWORD is shorter than 8 characters
seed.yaml:10: clients[0].secret_env: environment variable HUBID_BATCH_SECRET is not set`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	assertEmpty(t, d, f)

	opt := testOptions(&countingReader{}, map[string]string{"HUBID_OPS_PASSWORD": "ops-password", "HUBID_BATCH_SECRET": secret})
	if sum, err := Apply(ctx, d, f, opt); err != nil || sum.Created != 3 {
		t.Fatalf("apply: %v, %v", sum, err)
	}
	u, err := d.GetUserByEmail(ctx, "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := opt.Hasher.Verify("ops-password", u.PasswordHash); !ok || err != nil {
		t.Errorf("password from the environment does not verify: %v %v", ok, err)
	}
	c, err := d.GetClient(ctx, "api-batch")
	if err != nil || c.SecretHash != clients.HashSecret(secret) {
		t.Errorf("client = %+v, %v", c, err)
	}
	// Existing records need no secret: the variables may be gone.
	if sum, err := Apply(ctx, d, f, testOptions(&countingReader{}, nil)); err != nil || sum.Created != 0 {
		t.Fatalf("re-apply without the variables: %v, %v", sum, err)
	}
}

func TestApplyStoresGivenHashesVerbatim(t *testing.T) {
	ctx := context.Background()
	d := newStore(t)
	salts := &countingReader{}
	opt := testOptions(salts, nil)
	h, err := opt.Hasher.Hash("imported-password")
	if err != nil {
		t.Fatal(err)
	}
	n := salts.hashes()
	f := mustParse(t, "users:\n  - email: imp@example.com\n    name: Imp\n    disabled: true\n    password_hash: '"+h+"'\n")
	if _, err := Apply(ctx, d, f, opt); err != nil {
		t.Fatal(err)
	}
	u, err := d.GetUserByEmail(ctx, "imp@example.com")
	if err != nil || u.PasswordHash != h || !u.Disabled {
		t.Errorf("user = %+v, %v", u, err)
	}
	if salts.hashes() != n {
		t.Errorf("a given hash was hashed again")
	}
}

func TestApplyIDsComeFromOptionsRand(t *testing.T) {
	d := newStore(t)
	opt := testOptions(&countingReader{}, nil)
	opt.Rand = io.LimitReader(rand.Reader, 16) // one ID, two are needed
	f := mustParse(t, "organizations: [{code: A, name: A}, {code: B, name: B}]\n")
	_, err := Apply(context.Background(), d, f, opt)
	if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Fatalf("want the read error, got %v", err)
	}
	assertEmpty(t, d, f)
}

func TestApplyValidatesHandBuiltFiles(t *testing.T) {
	f := &File{Users: []User{{Email: "x", Name: "X", Password: "quiet-harbour-lantern"}}}
	_, err := Apply(context.Background(), newStore(t), f, testOptions(&countingReader{}, nil))
	if err == nil || err.Error() != `users[0].email: "x" is not an email address` {
		t.Fatalf("got %v", err)
	}
}

// staleOutside pretends, outside a transaction only, that every user
// exists: the store changed between Apply's first plan and its transaction.
type staleOutside struct{ store.Durable }

func (s staleOutside) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	return store.User{ID: "someone-else", Email: email}, nil
}

func (s staleOutside) ListMembershipsByUser(context.Context, string) ([]store.Membership, error) {
	return nil, nil
}

func TestApplyReplansInsideTheTransaction(t *testing.T) {
	d := newStore(t)
	salts := &countingReader{}
	f := mustParse(t, "users: [{email: late@example.com, name: Late, password: late-password}]\n")
	sum, err := Apply(context.Background(), staleOutside{d}, f, testOptions(salts, nil))
	if err != nil || sum != (Summary{Created: 1}) {
		t.Fatalf("apply: %v, %v", sum, err)
	}
	if salts.hashes() != 1 {
		t.Errorf("hashed %d passwords, want 1 (inside the transaction)", salts.hashes())
	}
	u, err := d.GetUserByEmail(context.Background(), "late@example.com")
	if err != nil || !idRE.MatchString(u.ID) {
		t.Errorf("user = %+v, %v", u, err)
	}
}
