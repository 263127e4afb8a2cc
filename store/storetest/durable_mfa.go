package storetest

import (
	"context"
	"testing"

	"github.com/customerhub/hubid/store"
)

// durOrgRequireMFA: an organization's two-step policy is stored at
// creation, changed by SetOrganizationRequireMFA, and read back by every
// organization reader.
func durOrgRequireMFA(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	o := durOrg("o1", clk.Now())
	o.Code, o.RequireMFA = "NK0001", true
	durIs(t, "CreateOrganization", s.CreateOrganization(ctx, o), nil)
	got, err := s.GetOrganization(ctx, "o1")
	durIs(t, "GetOrganization", err, nil)
	durEqual(t, "created with the policy", got, o)

	durIs(t, "turn off", s.SetOrganizationRequireMFA(ctx, "o1", false), nil)
	got, err = s.GetOrganizationByCode(ctx, "NK0001")
	durIs(t, "GetOrganizationByCode", err, nil)
	o.RequireMFA = false
	durEqual(t, "after turning off", got, o)

	durIs(t, "turn on", s.SetOrganizationRequireMFA(ctx, "o1", true), nil)
	list, err := s.ListOrganizations(ctx)
	durIs(t, "ListOrganizations", err, nil)
	o.RequireMFA = true
	durEqual(t, "after turning on", list, []store.Organization{o})

	durIs(t, "unknown organization", s.SetOrganizationRequireMFA(ctx, "nope", true), store.ErrNotFound)
}
