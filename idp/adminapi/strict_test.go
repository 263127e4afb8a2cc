package adminapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInputIsAProblemAndWritesNothing: unknown field, wrong type,
// oversized body, trailing data, wrong media type and empty body are each
// refused with a problem, and neither the resource nor the audit log
// changes.
func TestBadInputIsAProblemAndWritesNothing(t *testing.T) {
	e := newSQLiteEnv(t)
	e.addUser("u1", "u1@example.com")
	u := e.do("GET", Prefix+"/users/u1", nil).want(t, 200)
	tag := u.header.Get("ETag")
	big := `{"name":"` + strings.Repeat("x", 2000) + `"}`
	cases := []struct {
		name, method, path, body, ctype string
		status                          int
		code, detail                    string
	}{
		{"unknown field", "POST", "/organizations", `{"code":"A1","name":"A","admin":true}`, "", 400, "invalid", `unknown field "admin"`},
		{"wrong type", "POST", "/organizations", `{"code":1,"name":"A"}`, "", 400, "invalid", `field "code": wrong type`},
		{"oversized", "POST", "/organizations", `{"code":"A1","name":"` + strings.Repeat("x", 2000) + `"}`, "", 413, "too_large", "larger than 1024"},
		{"trailing data", "POST", "/organizations", `{"code":"A1","name":"A"} {}`, "", 400, "invalid", "nothing after"},
		{"not JSON", "POST", "/organizations", `code=A1`, "", 400, "invalid", "not valid JSON"},
		{"empty", "POST", "/organizations", ``, "", 400, "invalid", "required"},
		{"array", "POST", "/organizations", `[]`, "", 400, "invalid", "JSON object"},
		{"form media type", "POST", "/organizations", `{"code":"A1","name":"A"}`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", "application/json"},
		{"patch unknown field", "PATCH", "/users/u1", `{"name":"B","email":"x@example.com"}`, "", 400, "invalid", `unknown field "email"`},
		{"patch wrong type", "PATCH", "/users/u1", `{"disabled":"yes"}`, "", 400, "invalid", `field "disabled": wrong type`},
		{"patch oversized", "PATCH", "/users/u1", big, "", 413, "too_large", "larger than"},
		{"patch invalid value", "PATCH", "/users/u1", `{"locale":"fr","name":"  "}`, "", 400, "invalid", "language"},
		{"client unknown field", "POST", "/clients", `{"name":"C","grant_types":["client_credentials"],"secret":"mine"}`, "", 400, "invalid", `unknown field "secret"`},
		{"client invalid registration", "POST", "/clients", `{"name":"C","grant_types":["implicit"]}`, "", 400, "invalid", "grant_types[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.auditCount()
			headers := []string{"If-Match", tag}
			if c.ctype != "" {
				headers = append(headers, "Content-Type", c.ctype)
			}
			p := e.do(c.method, Prefix+c.path, c.body, headers...).problem(t, c.status, c.code)
			if !strings.Contains(p.Detail, c.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, c.detail)
			}
			if n := e.auditCount(); n != before {
				t.Errorf("audit events %d → %d: something was written", before, n)
			}
			var orgs List[Organization]
			e.do("GET", Prefix+"/organizations", nil).want(t, 200).json(t, &orgs)
			if len(orgs.Items) != 0 {
				t.Errorf("organizations written: %+v", orgs.Items)
			}
			var cl List[Client]
			e.do("GET", Prefix+"/clients", nil).want(t, 200).json(t, &cl)
			if len(cl.Items) != 0 {
				t.Errorf("clients written: %+v", cl.Items)
			}
			if now := e.do("GET", Prefix+"/users/u1", nil).want(t, 200); now.header.Get("ETag") != tag {
				t.Errorf("user changed: %s", now.body)
			}
		})
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newSQLiteEnv(t)
	e.do("GET", Prefix+"/nothing", nil).problem(t, http.StatusNotFound, "not_found")
	r := e.do("DELETE", Prefix+"/organizations", nil)
	r.problem(t, http.StatusMethodNotAllowed, "method_not_allowed")
	if allow := r.header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow = %q", allow)
	}
	e.do("GET", Prefix+"/organizations/none", nil).problem(t, http.StatusNotFound, "not_found")
	e.do("GET", Prefix+"/organizations?limit=0", nil).problem(t, http.StatusBadRequest, "invalid")
	e.do("GET", Prefix+"/organizations?cursor=!!", nil).problem(t, http.StatusBadRequest, "invalid")
}
