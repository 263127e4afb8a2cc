package orgs

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/customerhub/hubid/store"
)

// claimFake is a ClaimStore over maps; fail makes every read fail.
type claimFake struct {
	orgs         map[string]store.Organization
	memberships  map[string][]store.Membership // by user
	entitlements map[string][]store.Entitlement
	fail         error
}

func (f *claimFake) ListMembershipsByUser(_ context.Context, u string) ([]store.Membership, error) {
	return f.memberships[u], f.fail
}

func (f *claimFake) GetOrganization(_ context.Context, id string) (store.Organization, error) {
	o, ok := f.orgs[id]
	if !ok {
		return o, store.ErrNotFound
	}
	return o, f.fail
}

func (f *claimFake) ListEntitlementsByOrg(_ context.Context, id string) ([]store.Entitlement, error) {
	return f.entitlements[id], f.fail
}

// twoOrgs: "p" is a visitor of ZZ (entitled to ships and pass) and an
// administrator of AA (entitled to pass only); "q" belongs to CC only.
func twoOrgs() *claimFake {
	return &claimFake{
		orgs: map[string]store.Organization{
			"o-zz": {ID: "o-zz", Code: "ZZ", Name: "Zeta"},
			"o-aa": {ID: "o-aa", Code: "AA", Name: "Alpha"},
			"o-cc": {ID: "o-cc", Code: "CC", Name: "Gamma"},
		},
		memberships: map[string][]store.Membership{
			"p": {{UserID: "p", OrgID: "o-zz", Role: store.RoleVisitor}, {UserID: "p", OrgID: "o-aa", Role: store.RoleAdministrator},
				{UserID: "p", OrgID: "o-gone", Role: store.RoleNormal}},
			"q": {{UserID: "q", OrgID: "o-cc", Role: store.RoleNormal}},
		},
		entitlements: map[string][]store.Entitlement{
			"o-zz":   {{OrgID: "o-zz", ServiceID: "ships"}, {OrgID: "o-zz", ServiceID: "pass"}},
			"o-aa":   {{OrgID: "o-aa", ServiceID: "pass"}},
			"o-cc":   {{OrgID: "o-cc", ServiceID: "pass"}},
			"o-gone": {{OrgID: "o-gone", ServiceID: "pass"}},
		},
	}
}

func TestComputeClaimsListsOnlyEntitledOrganizationsSortedByCode(t *testing.T) {
	ctx := context.Background()
	st := twoOrgs()
	c, err := ComputeClaims(ctx, st, "p", "pass", "")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(c.Map())
	want := `{"orgs":[{"id":"o-aa","code":"AA","name":"Alpha","role":"administrator"},{"id":"o-zz","code":"ZZ","name":"Zeta","role":"visitor"}],"roles":["administrator","visitor"]}`
	if string(got) != want {
		t.Errorf("pass:\n got  %s\n want %s", got, want)
	}
	c, err = ComputeClaims(ctx, st, "p", "ships", "o-zz")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(c.Map())
	want = `{"org":{"id":"o-zz","code":"ZZ","name":"Zeta","role":"visitor"},"orgs":[{"id":"o-zz","code":"ZZ","name":"Zeta","role":"visitor"}],"roles":["visitor"]}`
	if string(got) != want {
		t.Errorf("ships with a selection:\n got  %s\n want %s", got, want)
	}
}

func TestComputeClaimsRefusals(t *testing.T) {
	ctx := context.Background()
	st := twoOrgs()
	cases := []struct {
		user, service, selected string
		want                    error
	}{
		{"q", "ships", "", ErrNotEntitled},
		{"nobody", "pass", "", ErrNotEntitled},
		{"p", "ships", "o-aa", ErrOrgNotMember}, // a member, but AA may not use ships
		{"p", "pass", "o-cc", ErrOrgNotMember},  // someone else's organization
	}
	for _, c := range cases {
		if _, err := ComputeClaims(ctx, st, c.user, c.service, c.selected); !errors.Is(err, c.want) {
			t.Errorf("%s on %s selecting %q: %v, want %v", c.user, c.service, c.selected, err, c.want)
		}
	}
	// A client bound to no service admits everyone and lists nothing.
	c, err := ComputeClaims(ctx, st, "p", "", "")
	if err != nil || len(c.Orgs) != 0 || c.Orgs == nil || len(c.Roles()) != 0 {
		t.Errorf("no service: %+v %v", c, err)
	}
	boom := errors.New("boom")
	st.fail = boom
	if _, err := ComputeClaims(ctx, st, "p", "pass", ""); !errors.Is(err, boom) {
		t.Errorf("store failure: %v", err)
	}
}

func TestResolveHint(t *testing.T) {
	ctx := context.Background()
	st := twoOrgs()
	a, err := EntitledAccess(ctx, st, "p", "ships")
	if err != nil {
		t.Fatal(err)
	}
	if o, err := ResolveHint(ctx, st, a, "p", "ZZ"); err != nil || o.ID != "o-zz" {
		t.Errorf("ZZ: %+v %v", o, err)
	}
	for code, want := range map[string]error{"AA": ErrOrgNotEntitled, "CC": ErrOrgNotMember, "NOPE": ErrOrgNotMember, "zz": ErrOrgNotMember} {
		if _, err := ResolveHint(ctx, st, a, "p", code); !errors.Is(err, want) {
			t.Errorf("hint %s: %v, want %v", code, err, want)
		}
	}
}
