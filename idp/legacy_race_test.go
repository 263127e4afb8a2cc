package idp_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/store"
)

// Six people of an organization without an administrator (NK0010)
// pre-register its shared login ID and follow their mailed links at the
// same moment: all are linked, and exactly one becomes the organization's
// administrator, whatever the timing.
func TestPreregistrationFirstAdministratorRace(t *testing.T) {
	for _, backend := range hubtest.Backends() {
		t.Run(backend, func(t *testing.T) { firstAdministratorRace(t, backend) })
	}
}

func firstAdministratorRace(t *testing.T, backend string) {
	env := legacyEnvOn(t, backend, -time.Hour, 24*time.Hour, 48*time.Hour)
	ctx := context.Background()
	const n = 6
	tokens := make([]string, n)
	for i := range n {
		email := fmt.Sprintf("first%d@kobe.example", i)
		if p := preregister(t, env, "nk-ships", "NKS-0002", email); p.status != 303 {
			t.Fatalf("%s: %+v", email, p)
		}
		tokens[i] = mailedLink(t, env, email)
	}
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tok := range tokens {
		wg.Go(func() {
			<-start
			form := url.Values{"token": {tok}, "password": {"a-long-new-passphrase"}, "confirm": {"a-long-new-passphrase"}}
			resp, err := http.PostForm(env.URL+"/preregister/confirm", form)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			statuses[i], bodies[i] = resp.StatusCode, html.UnescapeString(string(b))
		})
	}
	close(start)
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Fatalf("person %d: %d\n%s", i, st, bodies[i])
		}
	}
	org, err := env.Durable.GetOrganizationByCode(ctx, "NK0010")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[store.Role]int{}
	for i := range n {
		u, err := env.Durable.GetUserByEmail(ctx, fmt.Sprintf("first%d@kobe.example", i))
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := env.Durable.ListMembershipsByUser(ctx, u.ID)
		if len(ms) != 1 || ms[0].OrgID != org.ID {
			t.Fatalf("person %d memberships: %+v", i, ms)
		}
		roles[ms[0].Role]++
	}
	if roles[store.RoleAdministrator] != 1 || roles[store.RoleNormal] != n-1 {
		t.Fatalf("roles after %d simultaneous first registrations: %v, want exactly one administrator", n, roles)
	}
	ships, _ := env.Durable.GetServiceByCode(ctx, "nk-ships")
	if links, _ := env.Durable.ListLegacyLinksByLoginID(ctx, ships.ID, "NKS-0002"); len(links) != n {
		t.Fatalf("links: %d", len(links))
	}
}
