package adminapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

func TestAuthentication(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	tokens := fakeTokens{
		"a.admin.tok":    {Subject: "ops", ClientID: "ops", Scopes: []string{"other", Scope}},
		"a.noscope.tok":  {Subject: "ops", ClientID: "ops", Scopes: []string{"other"}},
		"a.unlisted.tok": {Subject: "svc", ClientID: "svc", Scopes: []string{Scope}},
		"a.person.tok":   {Subject: "user-1", ClientID: "ops", Scopes: []string{"openid", Scope}},
	}
	e := newEnv(t, storetest.OpenSQLite(t, clock.Now), clock, tokens, "ops")
	cases := []struct {
		name, auth string
		status     int
		code       string
	}{
		{"no token", "", 401, "unauthorized"},
		{"not bearer", "Basic b3BzOnNlY3JldA==", 401, "unauthorized"},
		{"wrong operator token", "Bearer " + testToken + "x", 401, "unauthorized"},
		{"unknown jwt", "Bearer x.y.z", 401, "unauthorized"},
		{"token without hubid:admin", "Bearer a.noscope.tok", 403, "forbidden"},
		{"client not in admin.clients", "Bearer a.unlisted.tok", 403, "forbidden"},
		{"a person's token", "Bearer a.person.tok", 403, "forbidden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("GET", Prefix+"/organizations", nil, "Authorization", c.auth)
			r.problem(t, c.status, c.code)
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate")
			}
		})
	}
	e.do("GET", Prefix+"/organizations", nil).want(t, 200)
	e.do("GET", Prefix+"/organizations", nil, "Authorization", "Bearer a.admin.tok").want(t, 200)
}

// TestWritesAuditTheActor: the operator token writes as
// operator:admin-token, an admin client as operator:client:<id> (the
// command writes as operator:cli).
func TestWritesAuditTheActor(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	tokens := fakeTokens{"a.admin.tok": {Subject: "ops", ClientID: "ops", Scopes: []string{Scope}}}
	e := newEnv(t, storetest.OpenSQLite(t, clock.Now), clock, tokens, "ops")
	e.do("POST", Prefix+"/organizations", `{"code":"A1","name":"A"}`).want(t, 201)
	e.do("POST", Prefix+"/organizations", `{"code":"B1","name":"B"}`, "Authorization", "Bearer a.admin.tok").want(t, 201)
	evs, err := e.store.ListAudit(t.Context(), store.AuditFilter{Kinds: []string{orgs.AuditOrgCreated}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ev := range evs {
		got[ev.Detail["code"]] = ev.ActorID
	}
	if got["A1"] != "operator:admin-token" || got["B1"] != "operator:client:ops" {
		t.Errorf("actors %v", got)
	}
	// And the audit search shows them.
	var l List[AuditEvent]
	e.do("GET", Prefix+"/audit?kind=org.created&limit=1", nil).want(t, 200).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].ActorID != "operator:client:ops" || l.NextCursor == "" {
		t.Fatalf("page 1: %+v", l)
	}
	next := l.NextCursor
	l = List[AuditEvent]{}
	e.do("GET", Prefix+"/audit?kind=org.created&limit=1&cursor="+next, nil).want(t, 200).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].ActorID != "operator:admin-token" || l.NextCursor != "" {
		t.Fatalf("page 2: %+v", l)
	}
	// The actor filter finds each one's writes.
	l = List[AuditEvent]{}
	e.do("GET", Prefix+"/audit?actor=operator:client:ops", nil).want(t, 200).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].Detail["code"] != "B1" {
		t.Fatalf("actor filter: %+v", l)
	}
}

func TestOffWithoutCredentials(t *testing.T) {
	d := storetest.OpenSQLite(t, time.Now)
	svc, err := orgs.New(orgs.Deps{Store: d, Mailer: outboxMailer{}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Store: d, Orgs: svc})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, api: a}
	e.do("GET", Prefix+"/organizations", nil).problem(t, http.StatusNotFound, "not_found")
}
