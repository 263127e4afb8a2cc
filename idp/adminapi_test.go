package idp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

const adminToken = "operator-token-0123456789-abcdefghijkl"

// adminEnv is a hubid with the admin API on, an admin client "ops" and the
// internal listener on its own test server.
type adminEnv struct {
	env      *hubtest.Env
	internal *httptest.Server
	ops      *rp // listed in admin.clients
	ships    *rp // an ordinary service client
}

func newAdminEnv(t *testing.T, backend string) *adminEnv {
	t.Helper()
	env := hubtest.New(t, hubtest.Options{Backend: backend, AdminToken: adminToken, Config: func(c *config.Config) {
		c.Listen.Metrics = "127.0.0.1:0"
		c.Admin.Clients = []string{"ops"}
	}})
	internal := httptest.NewServer(env.Server.Internal())
	t.Cleanup(internal.Close)
	return &adminEnv{env: env, internal: internal,
		ops:   newRP(t, env, "ops", "ops-secret-0123456789-0123456789-abcdef", "operations"),
		ships: newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")}
}

// ccToken gets a client_credentials access token; scope "" asks for none.
func ccToken(t *testing.T, r *rp, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	st, out, _ := r.tokenRequest(t, form)
	tok, _ := out["access_token"].(string)
	if st != http.StatusOK || strings.Count(tok, ".") != 2 {
		t.Fatalf("client_credentials for %s: %d %v", r.client.ID, st, out)
	}
	return tok
}

func (a *adminEnv) call(t *testing.T, method, path, token string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut {
		body = strings.NewReader(`{}`)
	}
	req, _ := http.NewRequest(method, a.internal.URL+path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: %d without problem+json: %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, b
}

// TestAdminAPIAuthenticationWithRealTokens: the operator token and an
// admin client's hubid:admin token get in; no token or a wrong one gets
// 401; a token without the scope gets 403; a client not in admin.clients
// cannot even obtain the scope; a revoked token gets 401.
func TestAdminAPIAuthenticationWithRealTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		a := newAdminEnv(t, backend)
		const path = "/admin/v1/organizations"
		admin := ccToken(t, a.ops, "hubid:admin")
		for _, c := range []struct {
			name, token string
			want        int
		}{
			{"no token", "", 401},
			{"wrong token", "not-the-operator-token-0123456789abcdef", 401},
			{"forged JWT", admin[:strings.LastIndexByte(admin, '.')+1] + "AAAA", 401},
			{"admin client without the scope", ccToken(t, a.ops, ""), 403},
			{"service client token", ccToken(t, a.ships, "ships.read"), 403},
			{"operator token", adminToken, 200},
			{"admin client with hubid:admin", admin, 200},
		} {
			if st, b := a.call(t, "GET", path, c.token); st != c.want {
				t.Errorf("%s: %d, want %d: %s", c.name, st, c.want, b)
			}
		}
		st, out, _ := a.ships.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "scope": {"hubid:admin"}})
		if st != http.StatusBadRequest || out["error"] != "invalid_scope" {
			t.Errorf("a client not in admin.clients asking for hubid:admin: %d %v", st, out)
		}
		// Revocation is checked locally too.
		revoke(t, a.ops, admin)
		if st, b := a.call(t, "GET", path, admin); st != http.StatusUnauthorized {
			t.Errorf("revoked token: %d %s", st, b)
		}
	})
}

func revoke(t *testing.T, r *rp, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.env.URL+"/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(r.client.ID, r.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

// TestAdminAPIEveryRouteIsOperatorsOnly runs every documented route (the
// OpenAPI document, which another test keeps equal to the router) with
// each kind of caller: nobody but an operator gets past authorization —
// an organization administrator's own access token included.
func TestAdminAPIEveryRouteIsOperatorsOnly(t *testing.T) {
	a := newAdminEnv(t, "embedded")
	env := a.env
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Name: "Aiko", Org: "A", Role: store.RoleAdministrator, Service: "svc"})
	_, f, code := signedIn(t, env, a.ships)
	person, _, _ := a.ships.exchange(t, f, code)
	if strings.Count(person.AccessToken, ".") != 2 {
		t.Fatal("the person's access token is not a JWT")
	}
	admin := ccToken(t, a.ops, "hubid:admin")
	callers := []struct {
		name, token string
		want        int // 0: anything but 401 and 403
	}{
		{"no token", "", 401},
		{"wrong token", "x" + adminToken, 401},
		{"organization administrator", person.AccessToken, 403},
		{"client without hubid:admin", ccToken(t, a.ships, ""), 403},
		{"admin client without the scope", ccToken(t, a.ops, ""), 403},
		{"operator token", adminToken, 0},
		{"admin client", admin, 0},
	}
	st, b := a.call(t, "GET", "/admin/v1/openapi.json", adminToken)
	if st != http.StatusOK {
		t.Fatalf("openapi.json: %d %s", st, b)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	n := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			n++
			method = strings.ToUpper(method)
			concrete := param.ReplaceAllString(path, "none")
			for _, c := range callers {
				st, b := a.call(t, method, concrete, c.token)
				switch {
				case c.want == 0 && (st == 401 || st == 403):
					t.Errorf("%s %s as %s: %d %s", method, path, c.name, st, b)
				case c.want != 0 && st != c.want:
					t.Errorf("%s %s as %s: %d, want %d: %s", method, path, c.name, st, c.want, b)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d routes documented", n)
	}
}

// TestAdminAPIApplicationDecision: an administrator applies through the
// organizations service; the operator approves over the API with the
// ETag; the organization is then entitled; a second decision is 409.
func TestAdminAPIApplicationDecision(t *testing.T) {
	a := newAdminEnv(t, "embedded")
	env := a.env
	u := env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Name: "Aiko", Org: "A", Role: store.RoleAdministrator, Service: "svc"})
	pass := env.EnsureService(t, "nk-pass")
	org, err := env.Durable.GetOrganizationByCode(t.Context(), "A")
	if err != nil {
		t.Fatal(err)
	}
	app, err := env.Server.Orgs.Apply(t.Context(), orgs.Person(u.ID), org.ID, pass.ID, "New application for NK service usage")
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/v1/applications/" + app.ID
	get := func() (string, map[string]any) {
		req, _ := http.NewRequest("GET", a.internal.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.Header.Get("ETag"), v
	}
	decide := func(ifMatch string) int {
		req, _ := http.NewRequest("POST", a.internal.URL+path+"/approve", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		drain(resp)
		return resp.StatusCode
	}
	tag, v := get()
	if v["status"] != "pending" || tag == "" {
		t.Fatalf("application %v (ETag %q)", v, tag)
	}
	if st := decide(""); st != http.StatusPreconditionRequired {
		t.Errorf("approve without If-Match: %d", st)
	}
	if st := decide(`"stale"`); st != http.StatusPreconditionFailed {
		t.Errorf("approve with a stale ETag: %d", st)
	}
	if st := decide(tag); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}
	tag, v = get()
	if v["status"] != "approved" {
		t.Errorf("after approval: %v", v)
	}
	es, _ := env.Durable.ListEntitlementsByOrg(t.Context(), org.ID)
	entitled := false
	for _, e := range es {
		entitled = entitled || e.ServiceID == pass.ID
	}
	if !entitled {
		t.Error("approval did not entitle the organization")
	}
	if st := decide(tag); st != http.StatusConflict {
		t.Errorf("second decision: %d, want 409", st)
	}
}

// TestAdminAPILegacyImportAndReport: the server wires the migration
// service into the admin API: a CSV body imports as `hubid legacy import`
// would, audited with the admin client's actor, and the report counts it.
func TestAdminAPILegacyImportAndReport(t *testing.T) {
	a := newAdminEnv(t, "embedded")
	a.env.EnsureService(t, "nk-ships")
	send := func(method, path, ctype, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, a.internal.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ccToken(t, a.ops, "hubid:admin"))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	csv := "login_id,org_code,org_name,password_hash,contact_email\nNKS-1,ACME,Acme,,\nNKS-2,ACME,Acme,,\n"
	if st, b := send("POST", "/admin/v1/legacy/import?service=nk-ships", "text/csv", csv); st != 200 || !strings.Contains(string(b), `"created":2`) {
		t.Fatalf("import: %d %s", st, b)
	}
	if st, b := send("GET", "/admin/v1/legacy/report?service=nk-ships", "", ""); st != 200 || !strings.Contains(string(b), `"total":2`) {
		t.Fatalf("report: %d %s", st, b)
	}
	evs, err := a.env.Durable.ListAudit(t.Context(), store.AuditFilter{Kinds: []string{"legacy.import"}})
	if err != nil || len(evs) != 1 || evs[0].ActorID != "operator:client:ops" {
		t.Fatalf("audit: %+v %v", evs, err)
	}
}
