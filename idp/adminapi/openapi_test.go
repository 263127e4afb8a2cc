package adminapi

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes walks both sides: every route registered on
// the router is documented, every documented operation is served by the
// router under exactly that pattern.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newSQLiteEnv(t)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	e.do("GET", Prefix+"/openapi.json", nil).want(t, 200).json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := map[string]bool{}
	for _, p := range e.api.Patterns() {
		registered[p] = true
		if !documented[p] {
			t.Errorf("route %s is not in the OpenAPI document", p)
		}
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for op := range documented {
		if !registered[op] {
			t.Errorf("documented %s is not a registered route", op)
		}
		// The router itself must send a request of that shape to that pattern.
		method, path, _ := strings.Cut(op, " ")
		req := httptest.NewRequest(method, param.ReplaceAllString(path, "x1"), nil)
		if _, pattern := e.api.mux.Handler(req); pattern != op {
			t.Errorf("%s %s is routed to %q, want %q", method, req.URL.Path, pattern, op)
		}
	}
	if len(documented) < 20 {
		t.Errorf("only %d operations documented", len(documented))
	}
}

// TestOpenAPIRefsResolve checks every $ref names a schema of the document
// and every request body schema refuses unknown fields, as the API does.
func TestOpenAPIRefsResolve(t *testing.T) {
	e := newSQLiteEnv(t)
	r := e.do("GET", Prefix+"/openapi.json", nil).want(t, 200)
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	r.json(t, &doc)
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([^"]+)"`).FindAllStringSubmatch(string(r.body), -1)
	if len(refs) == 0 {
		t.Fatal("no $ref in the document")
	}
	for _, m := range refs {
		s, ok := doc.Components.Schemas[m[1]]
		if !ok {
			t.Errorf("$ref %s has no schema", m[1])
			continue
		}
		if s["additionalProperties"] != false {
			t.Errorf("schema %s allows unknown properties", m[1])
		}
	}
	for _, name := range []string{"CodeName", "CodeNamePatch", "UserPatch", "UserCreate", "ClientCreate", "ClientPatch", "MembershipCreate", "RoleChange", "InvitationCreate", "ImportResult", "Member", "Problem", "OrganizationList"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("schema %s missing", name)
		}
	}
	var create map[string]any
	b, _ := json.Marshal(doc.Components.Schemas["CodeName"])
	_ = json.Unmarshal(b, &create)
	req, _ := create["required"].([]any)
	if !slices.Contains(req, any("code")) || !slices.Contains(req, any("name")) {
		t.Errorf("CodeName required = %v", req)
	}
}
