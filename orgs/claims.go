package orgs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// ClaimStore is what computing the organization claims reads: the
// person's memberships, the organizations and their entitlements. Every
// read goes to the store (no cache), so a membership, role or entitlement
// change shows in the next computation.
type ClaimStore interface {
	ListMembershipsByUser(ctx context.Context, userID string) ([]store.Membership, error)
	GetOrganization(ctx context.Context, id string) (store.Organization, error)
	ListEntitlementsByOrg(ctx context.Context, orgID string) ([]store.Entitlement, error)
}

// OrgClaim is one organization as the `orgs` and `org` claims show it.
type OrgClaim struct {
	ID   string     `json:"id"`
	Code string     `json:"code"`
	Name string     `json:"name"`
	Role store.Role `json:"role"`
	// RequireMFA is the organization's two-step policy (not a claim): the
	// refresh grant checks it without reading the organization again.
	RequireMFA bool `json:"-"`
}

// Access is a person's standing for one service: the memberships in
// organizations entitled to it, sorted by code.
type Access struct {
	ServiceID string // "" for a client bound to no service
	Orgs      []OrgClaim
}

// Errors of the claim computation. They are fixed values (compare with
// errors.Is); their messages are safe to show.
var (
	// ErrNotEntitled: none of the person's organizations may use the
	// service.
	ErrNotEntitled = apperr.New(apperr.Forbidden, "none of your organizations uses this service")
	// ErrOrgNotMember: the selected (or hinted) organization is not one of
	// the person's.
	ErrOrgNotMember = apperr.New(apperr.Forbidden, "you are not a member of the selected organization")
	// ErrOrgNotEntitled: the person is a member of the selected
	// organization, but it may not use the service.
	ErrOrgNotEntitled = apperr.New(apperr.Forbidden, "the selected organization does not use this service")
)

// entitledLister reads what EntitledAccess needs in one query
// (store.Durable has it); a ClaimStore without it is read membership by
// membership.
type entitledLister interface {
	ListEntitledMemberships(ctx context.Context, userID, serviceID string) ([]store.EntitledMembership, error)
}

// EntitledAccess returns the person's memberships in organizations
// entitled to serviceID, sorted by code. serviceID "" (a client bound to
// no service, such as the hub itself) has no entitled organization: Orgs
// is empty, never the person's every membership. A membership whose
// organization is gone is skipped.
func EntitledAccess(ctx context.Context, st ClaimStore, userID, serviceID string) (Access, error) {
	a := Access{ServiceID: serviceID, Orgs: []OrgClaim{}}
	if serviceID == "" {
		return a, nil
	}
	if el, ok := st.(entitledLister); ok {
		ems, err := el.ListEntitledMemberships(ctx, userID, serviceID)
		if err != nil {
			return a, fmt.Errorf("orgs: entitled memberships: %w", err)
		}
		for _, em := range ems {
			o := em.Organization
			a.Orgs = append(a.Orgs, OrgClaim{ID: o.ID, Code: o.Code, Name: o.Name, Role: em.Role, RequireMFA: o.RequireMFA})
		}
		slices.SortFunc(a.Orgs, func(x, y OrgClaim) int { return cmp.Compare(x.Code, y.Code) })
		return a, nil
	}
	ms, err := st.ListMembershipsByUser(ctx, userID)
	if err != nil {
		return a, fmt.Errorf("orgs: memberships: %w", err)
	}
	for _, m := range ms {
		es, err := st.ListEntitlementsByOrg(ctx, m.OrgID)
		if err != nil {
			return a, fmt.Errorf("orgs: entitlements: %w", err)
		}
		if !slices.ContainsFunc(es, func(e store.Entitlement) bool { return e.ServiceID == serviceID }) {
			continue
		}
		o, err := st.GetOrganization(ctx, m.OrgID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return a, fmt.Errorf("orgs: organization: %w", err)
		}
		a.Orgs = append(a.Orgs, OrgClaim{ID: o.ID, Code: o.Code, Name: o.Name, Role: m.Role, RequireMFA: o.RequireMFA})
	}
	slices.SortFunc(a.Orgs, func(x, y OrgClaim) int { return cmp.Compare(x.Code, y.Code) })
	return a, nil
}

// Entitled reports whether a person may sign in to the service: a client
// bound to no service admits everyone; otherwise one organization must be
// entitled.
func (a Access) Entitled() bool { return a.ServiceID == "" || len(a.Orgs) > 0 }

// Roles are the distinct roles among Orgs, sorted.
func (a Access) Roles() []store.Role {
	out := []store.Role{}
	for _, o := range a.Orgs {
		if !slices.Contains(out, o.Role) {
			out = append(out, o.Role)
		}
	}
	slices.Sort(out)
	return out
}

// ByID returns the entitled organization with that ID.
func (a Access) ByID(id string) (OrgClaim, bool) {
	i := slices.IndexFunc(a.Orgs, func(o OrgClaim) bool { return o.ID == id })
	if i < 0 {
		return OrgClaim{}, false
	}
	return a.Orgs[i], true
}

// ByCode returns the entitled organization with that code.
func (a Access) ByCode(code string) (OrgClaim, bool) {
	i := slices.IndexFunc(a.Orgs, func(o OrgClaim) bool { return o.Code == code })
	if i < 0 {
		return OrgClaim{}, false
	}
	return a.Orgs[i], true
}

// ResolveHint finds the organization an org_hint names among the person's
// entitled organizations: ErrOrgNotEntitled when the person is a member
// but the organization may not use the service, ErrOrgNotMember otherwise
// (an unknown code and someone else's organization look the same).
func ResolveHint(ctx context.Context, st ClaimStore, a Access, userID, code string) (OrgClaim, error) {
	if o, ok := a.ByCode(code); ok {
		return o, nil
	}
	ms, err := st.ListMembershipsByUser(ctx, userID)
	if err != nil {
		return OrgClaim{}, fmt.Errorf("orgs: memberships: %w", err)
	}
	for _, m := range ms {
		o, err := st.GetOrganization(ctx, m.OrgID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return OrgClaim{}, fmt.Errorf("orgs: organization: %w", err)
		}
		if o.Code == code {
			return OrgClaim{}, ErrOrgNotEntitled
		}
	}
	return OrgClaim{}, ErrOrgNotMember
}

// Claims are the organization claims of one token.
type Claims struct {
	Access
	// Org is the organization selected for the sign-in; nil when none was.
	Org *OrgClaim
}

// ComputeClaims returns the claims of a token issued now to a client of
// serviceID for userID, with selected the organization chosen at sign-in
// ("" = none). It fails with ErrNotEntitled when the person may no longer
// use the service, and with ErrOrgNotMember or ErrOrgNotEntitled when the
// selected organization is no longer one of theirs for it: a token must
// then not be issued.
func ComputeClaims(ctx context.Context, st ClaimStore, userID, serviceID, selected string) (Claims, error) {
	a, err := EntitledAccess(ctx, st, userID, serviceID)
	if err != nil {
		return Claims{}, err
	}
	c := Claims{Access: a}
	if !a.Entitled() {
		return c, ErrNotEntitled
	}
	if selected == "" {
		return c, nil
	}
	o, ok := a.ByID(selected)
	if !ok {
		return c, ErrOrgNotMember
	}
	c.Org = &o
	return c, nil
}

// Map returns the claims as JWT claim values: `orgs`, `roles` and, when an
// organization was selected, `org`.
func (c Claims) Map() map[string]any {
	m := map[string]any{"orgs": c.Orgs, "roles": c.Roles()}
	if c.Org != nil {
		m["org"] = *c.Org
	}
	return m
}
