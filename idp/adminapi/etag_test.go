package adminapi

import (
	"net/http"
	"testing"
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
