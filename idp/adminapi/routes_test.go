package adminapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// fixture is one of each resource, made through the API (and, for the
// application, by an organization administrator through the service).
type fixture struct {
	org, svc, other Organization
	ships, pass     Service
	admin, normal   User
	loner           User
	invitation      Invitation
	application     Application
	client          ClientWithSecret
}

const legacyCSV = "login_id,org_code,org_name,password_hash,contact_email\n" +
	"NKS-1,ACME,Acme,,a@example.com\n" +
	"NKS-2,ACME,Acme,,\n" +
	"NKS-3,BETA,Beta KK,,\n"

func newFixture(e *env) fixture {
	t := e.t
	t.Helper()
	var f fixture
	e.do("POST", Prefix+"/organizations", `{"code":"ACME","name":"Acme"}`).want(t, 201).json(t, &f.org)
	e.do("POST", Prefix+"/organizations", `{"code":"OTHER","name":"Other"}`).want(t, 201).json(t, &f.other)
	e.do("POST", Prefix+"/services", `{"code":"nk-ships","name":"NK-SHIPS"}`).want(t, 201).json(t, &f.ships)
	e.do("POST", Prefix+"/services", `{"code":"nk-pass","name":"NK-PASS"}`).want(t, 201).json(t, &f.pass)
	e.do("PUT", Prefix+"/organizations/"+f.org.ID+"/entitlements/"+f.ships.ID, nil).want(t, 201)
	e.do("POST", Prefix+"/users", `{"email":"aiko@example.com","name":"Aiko","email_verified":true}`).want(t, 201).json(t, &f.admin)
	e.do("POST", Prefix+"/users", `{"email":"ben@example.com","name":"Ben"}`).want(t, 201).json(t, &f.normal)
	e.do("POST", Prefix+"/users", `{"email":"carl@example.com","name":"Carl"}`).want(t, 201).json(t, &f.loner)
	e.do("POST", Prefix+"/organizations/"+f.org.ID+"/memberships", `{"user_id":"`+f.admin.ID+`","role":"administrator"}`).want(t, 201)
	e.do("POST", Prefix+"/organizations/"+f.org.ID+"/memberships", `{"user_id":"`+f.normal.ID+`","role":"normal"}`).want(t, 201)
	e.do("POST", Prefix+"/organizations/"+f.org.ID+"/invitations", `{"email":"new@example.com","role":"visitor","locale":"ja"}`).want(t, 201).json(t, &f.invitation)
	app, err := e.api.cfg.Orgs.Apply(t.Context(), orgs.Person(f.admin.ID), f.org.ID, f.pass.ID, "New application for NK service usage")
	if err != nil {
		t.Fatal(err)
	}
	f.application = applicationView(app)
	e.do("POST", Prefix+"/clients", `{"name":"Ships","service_id":"`+f.ships.ID+`","grant_types":["client_credentials"]}`).want(t, 201).json(t, &f.client)
	e.upload("nk-ships", "", legacyCSV).want(t, 200)
	return f
}

// concrete fills a route pattern's parameters with the fixture's IDs.
func (f fixture) concrete(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	id := map[string]string{"organizations": f.org.ID, "users": f.admin.ID, "services": f.ships.ID,
		"clients": f.client.ID, "applications": f.application.ID}[strings.Split(strings.TrimPrefix(path, Prefix+"/"), "/")[0]]
	return strings.NewReplacer("{id}", id, "{user_id}", f.normal.ID, "{service_id}", f.ships.ID,
		"{invitation_id}", f.invitation.ID).Replace(path)
}

// upload posts a legacy import file as text/csv (query: extra parameters).
func (e *env) upload(service, query, file string) reply {
	e.t.Helper()
	return e.do("POST", Prefix+"/legacy/import?service="+service+query, file, "Content-Type", "text/csv")
}

// state is everything the fixture's resources show, and the number of
// audit events: any committed write changes it.
func (e *env) state(f fixture) string {
	e.t.Helper()
	var b strings.Builder
	b.WriteString(itoa(int64(e.auditCount())))
	for _, p := range []string{
		"/organizations", "/services", "/users", "/clients", "/applications", "/legacy/report",
		"/organizations/" + f.org.ID + "/memberships", "/organizations/" + f.org.ID + "/invitations",
		"/organizations/" + f.org.ID + "/entitlements", "/users/" + f.admin.ID + "/memberships",
	} {
		r := e.do("GET", Prefix+p, nil).want(e.t, 200)
		b.Write(r.body)
	}
	return b.String()
}

// wrongType is a body giving the first field of a request type a value
// of another JSON type.
func wrongType(t *testing.T, body any) string {
	t.Helper()
	f := reflect.TypeOf(body).Field(0)
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	ft := f.Type
	if ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	v := `"text"`
	if ft.Kind() == reflect.String {
		v = `12`
	}
	return `{"` + name + `":` + v + `}`
}

// validBodies are well-formed bodies of the routes that take a body and
// If-Match: sent with a stale ETag, they must get 412 and change nothing.
var validBodies = map[string]string{
	"PATCH /admin/v1/organizations/{id}":                       `{"name":"Renamed"}`,
	"PATCH /admin/v1/services/{id}":                            `{"name":"Renamed"}`,
	"PATCH /admin/v1/users/{id}":                               `{"name":"Renamed"}`,
	"PATCH /admin/v1/organizations/{id}/memberships/{user_id}": `{"role":"visitor"}`,
	"PATCH /admin/v1/clients/{id}":                             `{"name":"Renamed"}`,
	"POST /admin/v1/applications/{id}/reject":                  `{"reason":"no"}`,
}

// TestEveryWriteRefusesBadInputAndWritesNothing walks the router's routes:
// every write gets, as fits it, an unknown field, a wrong type, an
// oversized body, the wrong media type, a body where none is taken, an
// unknown query parameter, a missing and a stale If-Match, and a legacy
// file with a bad line. Each is a problem (4xx, application/problem+json)
// and nothing anywhere changes: no resource, no audit event.
func TestEveryWriteRefusesBadInputAndWritesNothing(t *testing.T) {
	e := newSQLiteEnv(t)
	f := newFixture(e)
	before := e.state(f)
	writes := 0
	for _, pattern := range e.api.Patterns() {
		method, _, _ := strings.Cut(pattern, " ")
		if method == "GET" {
			continue
		}
		writes++
		op, ok := operationOf(pattern)
		if !ok {
			t.Fatalf("%s has no operation", pattern)
		}
		path := f.concrete(pattern)
		type attempt struct {
			name, query, body string
			headers           []string
			status            int
		}
		tries := []attempt{{name: "unknown query parameter", query: "?zzz=1", status: 400}}
		switch {
		case op.upload:
			tries = append(tries,
				attempt{name: "JSON instead of a file", query: "?service=nk-ships", body: `{}`, status: 415},
				attempt{name: "oversized file", query: "?service=nk-ships", body: legacyCSV + strings.Repeat("NKS-9,ACME,Acme,,\n", 300), headers: []string{"Content-Type", "text/csv"}, status: 413},
				attempt{name: "a bad line", query: "?service=nk-ships", body: legacyCSV + "NKS-4,,Acme,,\n", headers: []string{"Content-Type", "text/csv"}, status: 400})
		case op.body != nil:
			tries = append(tries,
				attempt{name: "unknown field", body: `{"zzz":1}`, status: 400},
				attempt{name: "wrong type", body: wrongType(t, op.body), status: 400},
				attempt{name: "oversized", body: `{"name":"` + strings.Repeat("x", 2000) + `"}`, status: 413},
				attempt{name: "form media type", body: `name=x`, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415})
		default:
			tries = append(tries, attempt{name: "a body where none is taken", body: `{"zzz":1}`, status: 400})
		}
		if op.ifMatch {
			body, ok := validBodies[pattern]
			if op.body != nil && !ok {
				t.Fatalf("%s: add a valid body to validBodies", pattern)
			}
			tries = append(tries,
				attempt{name: "no If-Match", body: body, headers: []string{"If-Match", ""}, status: 428},
				attempt{name: "stale If-Match", body: body, headers: []string{"If-Match", `"stale"`}, status: 412})
		}
		for _, c := range tries {
			t.Run(pattern+"/"+c.name, func(t *testing.T) {
				headers := append([]string{"If-Match", `"stale"`}, c.headers...)
				var body any
				if c.body != "" {
					body = c.body
				}
				r := e.do(method, path+c.query, body, headers...)
				if r.status != c.status || r.header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("%d %s, want %d problem+json: %s", r.status, r.header.Get("Content-Type"), c.status, r.body)
				}
				if now := e.state(f); now != before {
					t.Fatalf("something was written")
				}
			})
		}
	}
	if writes < 24 {
		t.Errorf("only %d write routes", writes)
	}
}

// TestEveryRouteRefusesNonOperators walks the router's routes with each
// kind of caller that is not an operator: no token or a wrong one (401),
// a person's access token — an organization administrator's — a token of
// a client not in admin.clients, and an admin client's token without the
// scope (403). Nothing is written; the operator gets past authorization
// on every route.
func TestEveryRouteRefusesNonOperators(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	tokens := fakeTokens{}
	e := newEnv(t, storetest.OpenSQLite(t, clock.Now), clock, tokens, "ops")
	f := newFixture(e)
	tokens["a.orgadmin.tok"] = AccessClaims{Subject: f.admin.ID, ClientID: "ships", Scopes: []string{"openid", "roles"}}
	tokens["a.orgadmin-scope.tok"] = AccessClaims{Subject: f.admin.ID, ClientID: "ops", Scopes: []string{"openid", Scope}}
	tokens["a.unlisted.tok"] = AccessClaims{Subject: "ships", ClientID: "ships", Scopes: []string{Scope}}
	tokens["a.noscope.tok"] = AccessClaims{Subject: "ops", ClientID: "ops", Scopes: []string{"openid"}}
	callers := []struct {
		name, auth string
		status     int
	}{
		{"no token", "", 401},
		{"wrong token", "Bearer x" + testToken, 401},
		{"organization administrator's token", "Bearer a.orgadmin.tok", 403},
		{"organization administrator's token with the scope", "Bearer a.orgadmin-scope.tok", 403},
		{"client not in admin.clients", "Bearer a.unlisted.tok", 403},
		{"admin client without the scope", "Bearer a.noscope.tok", 403},
	}
	before := e.state(f)
	for _, pattern := range e.api.Patterns() {
		method, _, _ := strings.Cut(pattern, " ")
		path := f.concrete(pattern)
		for _, c := range callers {
			r := e.do(method, path, `{}`, "Authorization", c.auth, "If-Match", "*")
			if r.status != c.status || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s as %s: %d, want %d: %s", pattern, c.name, r.status, c.status, r.body)
			}
		}
		if r := e.do(method, path+"?zzz=1", nil); r.status == 401 || r.status == 403 {
			t.Errorf("%s as the operator: %d", pattern, r.status)
		}
	}
	if e.state(f) != before {
		t.Error("a refused caller wrote something")
	}
	if len(e.api.Patterns()) < 45 {
		t.Errorf("only %d routes", len(e.api.Patterns()))
	}
}

func TestAuditEventNamesTheActor(t *testing.T) {
	e := newSQLiteEnv(t)
	newFixture(e)
	evs, err := e.store.ListAudit(t.Context(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, ev := range evs {
		kinds[ev.Kind] = true
		// The application was made by the organization's administrator.
		if ev.Kind != orgs.AuditApplicationCreated && ev.ActorID != "operator:admin-token" {
			t.Errorf("%s by %q", ev.Kind, ev.ActorID)
		}
	}
	for _, k := range []string{orgs.AuditOrgCreated, orgs.AuditServiceCreated, orgs.AuditEntitlementGranted, orgs.AuditUserCreated,
		orgs.AuditMemberAdded, orgs.AuditInvitationCreated, "client.created", "legacy.import"} {
		if !kinds[k] {
			t.Errorf("no %s event", k)
		}
	}
	var l List[AuditEvent]
	e.do("GET", Prefix+"/audit?actor=operator:admin-token&kind=org.member.added", nil).want(t, 200).json(t, &l)
	if len(l.Items) != 2 {
		t.Errorf("actor+kind filter: %d events", len(l.Items))
	}
	b, _ := json.Marshal(l)
	if !strings.Contains(string(b), `"actor_id":"operator:admin-token"`) {
		t.Errorf("audit view: %s", b)
	}
	_ = http.StatusOK
}
