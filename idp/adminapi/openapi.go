package adminapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// operation describes one route for the OpenAPI document. This table is
// written apart from the router (routes()); TestOpenAPIMatchesRoutes
// keeps them equal. handle() also reads it: a query parameter not listed
// is refused, and so is a body on a route with neither body nor upload.
type operation struct {
	method, path, summary, tag string
	query                      []string // query parameters, all optional strings
	body                       any      // JSON request body type (zero value), nil for none
	upload                     bool     // the body is a file (text/csv or multipart/form-data)
	resp                       any      // response body type, nil for none
	status                     int      // success status
	ifMatch                    bool     // If-Match required (428 without it)
	etag                       bool     // the response carries an ETag
}

var paged = []string{"limit", "cursor"}

func withPage(q ...string) []string { return append(q, paged...) }

var historyFilters = []string{"kind", "since", "until"}

// operations lists every route of the API.
var operations = []operation{
	{method: "GET", path: "/openapi.json", summary: "This document", tag: "meta", resp: map[string]any{}, status: 200},

	{method: "GET", path: "/organizations", summary: "List organizations by code (filters: code, q = text in code or name)", tag: "organizations", query: withPage("code", "q"), resp: List[Organization]{}, status: 200},
	{method: "POST", path: "/organizations", summary: "Create an organization", tag: "organizations", body: CodeName{}, resp: Organization{}, status: 201, etag: true},
	{method: "GET", path: "/organizations/{id}", summary: "Read an organization", tag: "organizations", resp: Organization{}, status: 200, etag: true},
	{method: "PATCH", path: "/organizations/{id}", summary: "Change an organization's code or name", tag: "organizations", body: CodeNamePatch{}, resp: Organization{}, status: 200, ifMatch: true, etag: true},
	{method: "DELETE", path: "/organizations/{id}", summary: "Delete an organization with its memberships, entitlements, invitations and applications (its history stays)", tag: "organizations", status: 204, ifMatch: true},
	{method: "GET", path: "/organizations/{id}/history", summary: "An organization's usage history, newest first: administrative actions and its members' sign-ins (filters: person, kind (repeatable), since, until)", tag: "audit", query: withPage(append([]string{"person"}, historyFilters...)...), resp: List[AuditEvent]{}, status: 200},

	{method: "GET", path: "/organizations/{id}/memberships", summary: "List an organization's members by email (filters: q = text in name or email, role)", tag: "memberships", query: withPage("q", "role"), resp: List[Member]{}, status: 200},
	{method: "POST", path: "/organizations/{id}/memberships", summary: "Add an existing account to an organization with an account type (409 when a member)", tag: "memberships", body: MembershipCreate{}, resp: Member{}, status: 201, etag: true},
	{method: "GET", path: "/organizations/{id}/memberships/{user_id}", summary: "Read a membership", tag: "memberships", resp: Member{}, status: 200, etag: true},
	{method: "PATCH", path: "/organizations/{id}/memberships/{user_id}", summary: "Change a member's account type (409 last_administrator for the last administrator)", tag: "memberships", body: RoleChange{}, resp: Member{}, status: 200, ifMatch: true, etag: true},
	{method: "DELETE", path: "/organizations/{id}/memberships/{user_id}", summary: "Remove a member (409 last_administrator for the last administrator); delete_account=true also deletes an account of no other organization", tag: "memberships", query: []string{"delete_account"}, status: 204, ifMatch: true},

	{method: "GET", path: "/organizations/{id}/invitations", summary: "List an organization's invitations, oldest first (filter: status = pending, accepted, expired or cancelled)", tag: "invitations", query: withPage("status"), resp: List[Invitation]{}, status: 200},
	{method: "POST", path: "/organizations/{id}/invitations", summary: "Invite an address with an account type: a single-use link valid 7 days is mailed", tag: "invitations", body: InvitationCreate{}, resp: Invitation{}, status: 201, etag: true},
	{method: "GET", path: "/organizations/{id}/invitations/{invitation_id}", summary: "Read an invitation", tag: "invitations", resp: Invitation{}, status: 200, etag: true},
	{method: "POST", path: "/organizations/{id}/invitations/{invitation_id}/resend", summary: "Mail a pending or expired invitation again with a new link (the old one stops working)", tag: "invitations", resp: Invitation{}, status: 200, ifMatch: true, etag: true},
	{method: "POST", path: "/organizations/{id}/invitations/{invitation_id}/cancel", summary: "Cancel an invitation that was not accepted: its link stops working", tag: "invitations", resp: Invitation{}, status: 200, ifMatch: true, etag: true},

	{method: "GET", path: "/organizations/{id}/entitlements", summary: "List the services an organization is entitled to", tag: "entitlements", query: paged, resp: List[Entitlement]{}, status: 200},
	{method: "PUT", path: "/organizations/{id}/entitlements/{service_id}", summary: "Entitle an organization to a service (201 new, 200 already)", tag: "entitlements", resp: Entitlement{}, status: 201, etag: true},
	{method: "GET", path: "/organizations/{id}/entitlements/{service_id}", summary: "Read an entitlement", tag: "entitlements", resp: Entitlement{}, status: 200, etag: true},
	{method: "DELETE", path: "/organizations/{id}/entitlements/{service_id}", summary: "Withdraw an entitlement: members' tokens for the service stop at their next refresh", tag: "entitlements", status: 204, ifMatch: true},

	{method: "GET", path: "/users", summary: "List accounts by email (filters: q = text in name or email; email = one address)", tag: "users", query: withPage("q", "email"), resp: List[User]{}, status: 200},
	{method: "POST", path: "/users", summary: "Create an account without a password", tag: "users", body: UserCreate{}, resp: User{}, status: 201, etag: true},
	{method: "GET", path: "/users/{id}", summary: "Read a person", tag: "users", resp: User{}, status: 200, etag: true},
	{method: "PATCH", path: "/users/{id}", summary: "Change a person's name, language or disabled flag", tag: "users", body: UserPatch{}, resp: User{}, status: 200, ifMatch: true, etag: true},
	{method: "DELETE", path: "/users/{id}", summary: "Delete an account (409 last_administrator when it is an organization's last administrator)", tag: "users", status: 204, ifMatch: true},
	{method: "GET", path: "/users/{id}/memberships", summary: "List a person's memberships", tag: "memberships", query: paged, resp: List[Membership]{}, status: 200},

	{method: "GET", path: "/services", summary: "List services by code (filters: code, q = text in code or name)", tag: "services", query: withPage("code", "q"), resp: List[Service]{}, status: 200},
	{method: "POST", path: "/services", summary: "Create a service", tag: "services", body: CodeName{}, resp: Service{}, status: 201, etag: true},
	{method: "GET", path: "/services/{id}", summary: "Read a service", tag: "services", resp: Service{}, status: 200, etag: true},
	{method: "PATCH", path: "/services/{id}", summary: "Change a service's code or name", tag: "services", body: CodeNamePatch{}, resp: Service{}, status: 200, ifMatch: true, etag: true},
	{method: "DELETE", path: "/services/{id}", summary: "Delete a service with its entitlements, legacy login IDs and applications", tag: "services", status: 204, ifMatch: true},

	{method: "GET", path: "/clients", summary: "List clients by ID (filter: service_id)", tag: "clients", query: withPage("service_id"), resp: List[Client]{}, status: 200},
	{method: "POST", path: "/clients", summary: "Register a client; a confidential client's generated secret is returned once", tag: "clients", body: ClientCreate{}, resp: ClientWithSecret{}, status: 201, etag: true},
	{method: "GET", path: "/clients/{id}", summary: "Read a client", tag: "clients", resp: Client{}, status: 200, etag: true},
	{method: "PATCH", path: "/clients/{id}", summary: "Change a client's registration", tag: "clients", body: ClientPatch{}, resp: Client{}, status: 200, ifMatch: true, etag: true},
	{method: "DELETE", path: "/clients/{id}", summary: "Delete a client", tag: "clients", status: 204, ifMatch: true},
	{method: "POST", path: "/clients/{id}/secret", summary: "Replace a confidential client's secret; the new one is returned once", tag: "clients", resp: ClientWithSecret{}, status: 200, ifMatch: true, etag: true},

	{method: "GET", path: "/applications", summary: "List service applications, oldest first (filters: org_id, status = pending, approved or rejected)", tag: "applications", query: withPage("org_id", "status"), resp: List[Application]{}, status: 200},
	{method: "GET", path: "/applications/{id}", summary: "Read a service application", tag: "applications", resp: Application{}, status: 200, etag: true},
	{method: "POST", path: "/applications/{id}/approve", summary: "Approve a pending application: the organization is entitled and the applicant mailed (409 when decided already)", tag: "applications", resp: Application{}, status: 200, ifMatch: true, etag: true},
	{method: "POST", path: "/applications/{id}/reject", summary: "Reject a pending application with a reason; the applicant is mailed it", tag: "applications", body: ApplicationReject{}, resp: Application{}, status: 200, ifMatch: true, etag: true},

	{method: "POST", path: "/legacy/import", summary: "Import legacy login IDs of a service from a CSV file (text/csv body or multipart part \"file\"; as `hubid legacy import`). A file with a bad line imports nothing (400, the lines in the problem's import.lines) unless skip_bad=true; dry_run=true changes nothing", tag: "legacy", query: []string{"service", "dry_run", "skip_bad"}, upload: true, resp: ImportResult{}, status: 200},
	{method: "GET", path: "/legacy/report", summary: "Pre-registration progress per service and organization: login IDs total, pre-registered (and people), not yet (filter: service)", tag: "legacy", query: withPage("service"), resp: List[ReportRow]{}, status: 200},

	{method: "GET", path: "/audit", summary: "Search the usage history, newest first (filters: actor, user_id, org_id, kind (repeatable), since, until)", tag: "audit", query: withPage(append([]string{"actor", "user_id", "org_id"}, historyFilters...)...), resp: List[AuditEvent]{}, status: 200},
}

// operationOf finds the operation of a route pattern ("METHOD /path").
func operationOf(pattern string) (operation, bool) {
	for _, o := range operations {
		if o.method+" "+Prefix+o.path == pattern {
			return o, true
		}
	}
	return operation{}, false
}

// openAPIDocument builds the OpenAPI 3.1 document; schemas are derived
// from the Go types the handlers decode and encode.
func openAPIDocument(issuer string) ([]byte, error) {
	sc := schemas{defs: map[string]any{}}
	sc.of(reflect.TypeFor[Problem]())
	paths := map[string]map[string]any{}
	for _, o := range operations {
		p := Prefix + o.path
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(o.method)] = sc.operation(o)
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "hubid admin API",
			"version":     "1",
			"description": "The operators' API. Authenticate with the admin token or a client_credentials access token carrying scope " + Scope + " (only clients listed in admin.clients). Every write is audited with the actor: operator:admin-token or operator:client:<client_id>. Updates, deletes and decisions need If-Match with the ETag last read (428 without it, 412 when stale). Lists are paged with limit (1-200, default 50) and the opaque cursor of next_cursor. Errors are RFC 9457 application/problem+json. Bodies are strict JSON: unknown fields, wrong types and bodies over the size limit are refused and change nothing; so are unknown query parameters and a body on a route that takes none.",
		},
		"security": []any{map[string]any{"bearer": []string{}}, map[string]any{"oauth2": []string{Scope}}},
		"paths":    paths,
		"components": map[string]any{
			"schemas": sc.defs,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "The admin token (admin.token) or a JWT access token with scope " + Scope},
				"oauth2": map[string]any{"type": "oauth2", "flows": map[string]any{"clientCredentials": map[string]any{
					"tokenUrl": issuer + "/oauth/token", "scopes": map[string]string{Scope: "operate hubid (only clients listed in admin.clients)"}}}},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

func (sc *schemas) operation(o operation) map[string]any {
	var params []any
	for _, m := range pathParamRE.FindAllStringSubmatch(o.path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
	}
	for _, q := range o.query {
		params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]string{"type": "string"}})
	}
	if o.ifMatch {
		params = append(params, map[string]any{"name": "If-Match", "in": "header", "required": true,
			"description": "the ETag of the version read, or *", "schema": map[string]string{"type": "string"}})
	}
	problem := map[string]any{"description": "a problem", "content": map[string]any{
		"application/problem+json": map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/Problem"}}}}
	ok := map[string]any{"description": http.StatusText(o.status)}
	if o.resp != nil {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": sc.of(reflect.TypeOf(o.resp))}}
	}
	if o.etag {
		ok["headers"] = map[string]any{"ETag": map[string]any{"description": "the version, for If-Match", "schema": map[string]string{"type": "string"}}}
	}
	out := map[string]any{
		"summary": o.summary, "tags": []string{o.tag}, "operationId": strings.ToLower(o.method) + pathParamRE.ReplaceAllString(strings.ReplaceAll(o.path, "/", "_"), "by_$1"),
		"responses": map[string]any{itoa(int64(o.status)): ok, "default": problem},
	}
	if params != nil {
		out["parameters"] = params
	}
	if o.body != nil {
		out["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"application/json": map[string]any{"schema": sc.of(reflect.TypeOf(o.body))}}}
	}
	if o.upload {
		out["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"text/csv": map[string]any{"schema": map[string]string{"type": "string"}},
			"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "required": []string{"file"},
				"properties": map[string]any{"file": map[string]string{"type": "string", "contentMediaType": "text/csv"}}}},
		}}
	}
	return out
}

// schemas derives JSON Schemas from Go types, naming structs in defs.
type schemas struct{ defs map[string]any }

var timeType = reflect.TypeFor[time.Time]()

func (sc *schemas) of(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": sc.of(t.Elem())}
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Interface:
		return map[string]any{"type": "object"}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": sc.of(t.Elem())}
	case t.Kind() == reflect.Struct:
		name := t.Name()
		if i := strings.IndexByte(name, '['); i >= 0 { // List[pkg.T] → TList
			inner := name[i+1 : len(name)-1]
			name = inner[strings.LastIndexByte(inner, '.')+1:] + "List"
		}
		if _, ok := sc.defs[name]; !ok {
			sc.defs[name] = nil // reserve (recursion)
			sc.defs[name] = sc.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object is a struct's schema: its JSON fields (embedded structs
// flattened); fields without omitempty are required; no others allowed.
func (sc *schemas) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = sc.of(f.Type)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if required != nil {
		out["required"] = required
	}
	return out
}

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.doc)
	return nil
}
