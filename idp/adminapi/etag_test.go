package adminapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// TestETagSecondWriterGets412: two operators read the same version; the
// first write wins, the second gets 412 and changes nothing; a write
// without If-Match gets 428.
func TestETagSecondWriterGets412(t *testing.T) {
	e := newSQLiteEnv(t)
	e.addUser("u1", "u1@example.com")
	tag := e.do("GET", Prefix+"/users/u1", nil).want(t, 200).header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	first := e.do("PATCH", Prefix+"/users/u1", `{"name":"First"}`, "If-Match", tag).want(t, 200)
	if first.header.Get("ETag") == tag {
		t.Error("the ETag did not change with the resource")
	}
	e.do("PATCH", Prefix+"/users/u1", `{"name":"Second"}`, "If-Match", tag).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	e.do("PATCH", Prefix+"/users/u1", `{"name":"Third"}`).problem(t, http.StatusPreconditionRequired, "precondition_required")
	var u User
	e.do("GET", Prefix+"/users/u1", nil).want(t, 200).json(t, &u)
	if u.Name != "First" {
		t.Errorf("name = %q, want the first writer's", u.Name)
	}
	if n := e.auditCount(); n != 1 {
		t.Errorf("%d audit events, want 1", n)
	}
	// The new ETag works; * overwrites whatever is there.
	e.do("PATCH", Prefix+"/users/u1", `{"name":"Fourth"}`, "If-Match", first.header.Get("ETag")).want(t, 200)
	e.do("PATCH", Prefix+"/users/u1", `{"name":"Fifth"}`, "If-Match", "*").want(t, 200)
}

// TestETagConcurrentWritersOneWins: many writers holding the same version
// at once, on every backend: exactly one succeeds, the others get 412,
// and exactly one audit event is written.
func TestETagConcurrentWritersOneWins(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			clock := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
			e := newEnv(t, open(t, clock.Now), clock, nil)
			e.addUser("u1", "u1@example.com")
			now := clock.Now()
			if err := e.store.CreateClient(t.Context(), store.Client{ID: "c1", Name: "C", GrantTypes: []string{"client_credentials"},
				SecretHash: "sha256:00", AccessTokenType: store.AccessTokenJWT, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			for _, res := range []struct{ path, body string }{
				{"/users/u1", `{"name":"Writer %d"}`},
				{"/clients/c1", `{"name":"Writer %d"}`},
			} {
				before := e.auditCount()
				tag := e.do("GET", Prefix+res.path, nil).want(t, 200).header.Get("ETag")
				const n = 20
				status := make([]int, n)
				together(n, func(i int) {
					status[i] = e.do("PATCH", Prefix+res.path, fmt.Sprintf(res.body, i), "If-Match", tag).status
				})
				won := 0
				for _, s := range status {
					switch s {
					case http.StatusOK:
						won++
					case http.StatusPreconditionFailed:
					default:
						t.Errorf("%s: status %d", res.path, s)
					}
				}
				if won != 1 {
					t.Errorf("%s: %d writers won, want 1 (%v)", res.path, won, status)
				}
				if got := e.auditCount() - before; got != 1 {
					t.Errorf("%s: %d audit events, want 1", res.path, got)
				}
			}
		})
	}
}

func TestETagOnDeletes(t *testing.T) {
	e := newSQLiteEnv(t)
	var org Organization
	e.do("POST", Prefix+"/organizations", `{"code":"A1","name":"A Inc."}`).want(t, 201).json(t, &org)
	var svc Service
	e.do("POST", Prefix+"/services", `{"code":"nk-ships","name":"NK-SHIPS"}`).want(t, 201).json(t, &svc)
	ent := Prefix + "/organizations/" + org.ID + "/entitlements/" + svc.ID
	tag := e.do("PUT", ent, nil).want(t, 201).header.Get("ETag")
	e.do("PUT", ent, nil).want(t, 200) // already: nothing written
	e.do("DELETE", ent, nil).problem(t, http.StatusPreconditionRequired, "precondition_required")
	e.do("DELETE", ent, nil, "If-Match", `"stale"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	e.do("DELETE", ent, nil, "If-Match", tag).want(t, 204)
	e.do("GET", ent, nil).problem(t, http.StatusNotFound, "not_found")
	// created org, created service, granted, revoked
	if n := e.auditCount(); n != 4 {
		t.Errorf("%d audit events, want 4", n)
	}
}
