package adminapi

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// TestMembershipRules: role changes and removals go through the
// organizations service — the last administrator is neither demoted nor
// removed (409 last_administrator, nothing changes) — with If-Match.
func TestMembershipRules(t *testing.T) {
	e := newSQLiteEnv(t)
	f := newFixture(e)
	base := Prefix + "/organizations/" + f.org.ID + "/memberships/"
	admin := e.do("GET", base+f.admin.ID, nil).want(t, 200)
	before := e.auditCount()
	e.do("PATCH", base+f.admin.ID, `{"role":"normal"}`, "If-Match", admin.header.Get("ETag")).problem(t, 409, "last_administrator")
	e.do("DELETE", base+f.admin.ID, nil, "If-Match", admin.header.Get("ETag")).problem(t, 409, "last_administrator")
	e.do("DELETE", Prefix+"/users/"+f.admin.ID, nil, "If-Match", "*").problem(t, 409, "last_administrator")
	if e.auditCount() != before {
		t.Fatal("a refused change was audited")
	}
	e.do("PATCH", base+f.admin.ID, `{"role":"owner"}`, "If-Match", "*").problem(t, 400, "invalid")

	normal := e.do("GET", base+f.normal.ID, nil).want(t, 200)
	var m Member
	e.do("PATCH", base+f.normal.ID, `{"role":"administrator"}`, "If-Match", normal.header.Get("ETag")).want(t, 200).json(t, &m)
	if m.Role != store.RoleAdministrator || m.Email != "ben@example.com" || m.OrgID != f.org.ID {
		t.Fatalf("after the change: %+v", m)
	}
	e.do("PATCH", base+f.normal.ID, `{"role":"visitor"}`, "If-Match", normal.header.Get("ETag")).problem(t, 412, "precondition_failed")
	// Now the first administrator can step down and be removed.
	e.do("PATCH", base+f.admin.ID, `{"role":"visitor"}`, "If-Match", admin.header.Get("ETag")).want(t, 200)
	e.do("DELETE", base+f.admin.ID, nil, "If-Match", "*").want(t, 204)
	e.do("GET", base+f.admin.ID, nil).problem(t, 404, "not_found")
	e.do("POST", Prefix+"/organizations/"+f.org.ID+"/memberships", `{"user_id":"`+f.normal.ID+`","role":"normal"}`).problem(t, 409, "conflict")

	// The loner joins, then leaves with their account (no other organization).
	e.do("POST", Prefix+"/organizations/"+f.org.ID+"/memberships", `{"user_id":"`+f.loner.ID+`","role":"visitor"}`).want(t, 201)
	e.do("DELETE", base+f.loner.ID+"?delete_account=true", nil, "If-Match", "*").want(t, 204)
	e.do("GET", Prefix+"/users/"+f.loner.ID, nil).problem(t, 404, "not_found")

	evs, err := e.store.ListAudit(t.Context(), store.AuditFilter{OrgID: f.org.ID, Kinds: []string{orgs.AuditMemberRoleChanged, orgs.AuditMemberRemoved}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 {
		t.Errorf("%d membership events, want 4", len(evs))
	}
	for _, ev := range evs {
		if ev.ActorID != "operator:admin-token" {
			t.Errorf("%s by %q", ev.Kind, ev.ActorID)
		}
	}
}

// TestListsPageWithCursors: every kind of list pages with limit and
// next_cursor to the end, each item once; filters narrow it.
func TestListsPageWithCursors(t *testing.T) {
	e := newSQLiteEnv(t)
	f := newFixture(e)
	for i := range 5 {
		e.do("POST", Prefix+"/users", fmt.Sprintf(`{"email":"p%d@example.com","name":"P%d"}`, i, i)).want(t, 201)
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/users", 8},
		{"/users?q=example", 8},
		{"/users?q=aiko", 1},
		{"/users?email=BEN@example.com", 1},
		{"/organizations", 3}, // BETA came with the legacy import
		{"/organizations?q=acm", 1},
		{"/services", 2},
		{"/organizations/" + f.org.ID + "/memberships", 2},
		{"/organizations/" + f.org.ID + "/memberships?role=normal", 1},
		{"/organizations/" + f.org.ID + "/invitations?status=pending", 1},
		{"/organizations/" + f.org.ID + "/invitations?status=cancelled", 0},
		{"/organizations/" + f.org.ID + "/history", 6},
		{"/applications?status=pending", 1},
		{"/legacy/report", 2},
		{"/legacy/report?service=nk-pass", 0},
		{"/audit?org_id=" + f.org.ID, 6},
		{"/audit?kind=user.created&kind=org.created", 10},
		{"/audit?since=2026-03-01T09:00:00Z&until=2026-03-01T09:00:01Z&kind=org.created", 2},
		{"/audit?until=2026-03-01T09:00:00Z", 0},
	} {
		seen := map[string]bool{}
		path, cursor, pages := c.path, "", 0
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		for {
			var l List[map[string]any]
			e.do("GET", Prefix+path+sep+"limit=1"+cursor, nil).want(t, 200).json(t, &l)
			pages++
			for _, it := range l.Items {
				k := fmt.Sprint(it["id"], it["user_id"], it["org_code"])
				if seen[k] {
					t.Errorf("%s: %s twice", c.path, k)
				}
				seen[k] = true
			}
			if l.NextCursor == "" || pages > 20 {
				break
			}
			cursor = "&cursor=" + l.NextCursor
		}
		if len(seen) != c.want {
			t.Errorf("%s: %d items, want %d", c.path, len(seen), c.want)
		}
	}
	e.do("GET", Prefix+"/users?role=x", nil).problem(t, 400, "invalid")
	e.do("GET", Prefix+"/audit?since=yesterday", nil).problem(t, 400, "invalid")
	e.do("GET", Prefix+"/applications?status=maybe", nil).problem(t, 400, "invalid")
}

// TestInvitationsMailThroughTheOutbox: an invitation, a resend (a new
// link, with If-Match) and a cancellation, each mailed or recorded in the
// change's transaction.
func TestInvitationsMailThroughTheOutbox(t *testing.T) {
	e := newSQLiteEnv(t)
	f := newFixture(e)
	mails := e.mails()
	if len(mails) != 1 || mails[0].Kind != orgs.MailInvitation || mails[0].To != "new@example.com" || mails[0].Locale != "ja" {
		t.Fatalf("mail: %+v", mails)
	}
	path := Prefix + "/organizations/" + f.org.ID + "/invitations/" + f.invitation.ID
	tag := e.do("GET", path, nil).want(t, 200).header.Get("ETag")
	e.clock.Advance(time.Hour)
	var inv Invitation
	resent := e.do("POST", path+"/resend", nil, "If-Match", tag).want(t, 200)
	resent.json(t, &inv)
	if !inv.ExpiresAt.After(f.invitation.ExpiresAt) || len(e.mails()) != 1 {
		t.Fatalf("resend: %+v", inv)
	}
	e.do("POST", path+"/cancel", nil, "If-Match", tag).problem(t, 412, "precondition_failed")
	e.do("POST", path+"/cancel", nil, "If-Match", resent.header.Get("ETag")).want(t, 200).json(t, &inv)
	if inv.Status != orgs.InvitationCancelled {
		t.Fatalf("cancel: %+v", inv)
	}
	e.do("POST", Prefix+"/organizations/"+f.org.ID+"/invitations", `{"email":"ben@example.com","role":"normal"}`).problem(t, 409, "conflict")
	e.do("POST", Prefix+"/organizations/"+f.org.ID+"/invitations", `{"email":"not-an-email","role":"normal"}`).problem(t, 400, "invalid")
	e.do("GET", Prefix+"/organizations/"+f.other.ID+"/invitations/"+f.invitation.ID, nil).problem(t, 404, "not_found")
}

// TestApplicationDecisionEntitlesAndMails: approval through the service
// entitles the organization and mails the applicant in one transaction.
func TestApplicationDecisionEntitlesAndMails(t *testing.T) {
	e := newSQLiteEnv(t)
	f := newFixture(e)
	e.mails()
	path := Prefix + "/applications/" + f.application.ID
	tag := e.do("GET", path, nil).want(t, 200).header.Get("ETag")
	var app Application
	e.do("POST", path+"/approve", nil, "If-Match", tag).want(t, 200).json(t, &app)
	if app.Status != "approved" || app.DecidedBy != "operator:admin-token" {
		t.Fatalf("approved: %+v", app)
	}
	e.do("GET", Prefix+"/organizations/"+f.org.ID+"/entitlements/"+f.pass.ID, nil).want(t, 200)
	if m := e.mails(); len(m) != 1 || m[0].Kind != orgs.MailApplicationApproved || m[0].To != "aiko@example.com" {
		t.Fatalf("mail: %+v", m)
	}
	e.do("POST", path+"/reject", `{"reason":"late"}`, "If-Match", "*").problem(t, 409, "conflict")
}

// TestCodedResources: organizations and services change and go with
// If-Match, through the service (its code rules apply).
func TestCodedResources(t *testing.T) {
	e := newSQLiteEnv(t)
	f := newFixture(e)
	for path, taken := range map[string]string{"/organizations/" + f.other.ID: "ACME", "/services/" + f.pass.ID: "nk-ships"} {
		tag := e.do("GET", Prefix+path, nil).want(t, 200).header.Get("ETag")
		e.do("PATCH", Prefix+path, `{"code":"bad code"}`, "If-Match", tag).problem(t, 400, "invalid")
		e.do("PATCH", Prefix+path, `{"code":"`+taken+`"}`, "If-Match", tag).problem(t, 409, "conflict")
		next := e.do("PATCH", Prefix+path, `{"name":"Renamed"}`, "If-Match", tag).want(t, 200).header.Get("ETag")
		e.do("DELETE", Prefix+path, nil, "If-Match", tag).problem(t, 412, "precondition_failed")
		e.do("DELETE", Prefix+path, nil, "If-Match", next).want(t, 204)
		e.do("GET", Prefix+path, nil).problem(t, 404, "not_found")
	}
	e.do("DELETE", Prefix+"/organizations/none", nil, "If-Match", "*").problem(t, 404, "not_found")
}

// TestLegacyImport: the API's import has the command's semantics — a
// file with a bad line imports nothing and the problem lists the lines,
// skip_bad imports the rest, dry_run changes nothing, a second run
// changes nothing — in a text/csv body or a multipart part "file".
func TestLegacyImport(t *testing.T) {
	e := newSQLiteEnv(t)
	newFixture(e) // imported legacyCSV once
	report := func() string { return string(e.do("GET", Prefix+"/legacy/report", nil).want(t, 200).body) }
	before := report()
	var res ImportResult
	e.upload("nk-ships", "", legacyCSV).want(t, 200).json(t, &res)
	if !res.Applied || res.Unchanged != 3 || res.Created+res.Updated != 0 {
		t.Fatalf("second run: %+v", res)
	}
	bad := legacyCSV + "NKS-4,ACME,Acme,,\n" + "NKS-5,,Acme,,\n" + "NKS-6,ACME,Acme,$md5$nope,\n"
	p := e.upload("nk-ships", "", bad).problem(t, 400, "invalid")
	if p.Import == nil || p.Import.Applied || p.Import.Rejected != 2 || len(p.Import.Problems) != 2 ||
		p.Import.Problems[0].Line != 6 || p.Import.Problems[1].Line != 7 || p.Import.Problems[0].Reason == "" {
		t.Fatalf("refused file: %+v", p.Import)
	}
	if report() != before {
		t.Fatal("a file with bad lines imported something")
	}
	e.upload("nk-ships", "&dry_run=true&skip_bad=true", bad).want(t, 200).json(t, &res)
	if res.Applied || res.Created != 1 || report() != before {
		t.Fatalf("dry run: %+v", res)
	}
	// The same file as a multipart upload, skipping the bad lines.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "ids.csv")
	_, _ = fw.Write([]byte("\ufeff" + strings.ReplaceAll(bad, "\n", "\r\n")))
	_ = mw.Close()
	e.do("POST", Prefix+"/legacy/import?service=nk-ships&skip_bad=true", body.String(), "Content-Type", mw.FormDataContentType()).want(t, 200).json(t, &res)
	if !res.Applied || res.Created != 1 || res.Rejected != 2 || len(res.Changes) != 1 || res.Changes[0].LoginID != "NKS-4" {
		t.Fatalf("multipart skip_bad: %+v", res)
	}
	var rows List[ReportRow]
	e.do("GET", Prefix+"/legacy/report?service=nk-ships", nil).want(t, 200).json(t, &rows)
	if len(rows.Items) != 2 || rows.Items[0].OrgCode != "ACME" || rows.Items[0].Total != 3 || rows.Items[0].NotYet != 3 || rows.Items[1].Total != 1 {
		t.Fatalf("report: %+v", rows.Items)
	}
	e.upload("nk-none", "", legacyCSV).problem(t, 404, "not_found")
	e.do("POST", Prefix+"/legacy/import", legacyCSV, "Content-Type", "text/csv").problem(t, 400, "invalid")
	e.do("POST", Prefix+"/legacy/import?service=nk-ships", body.String(), "Content-Type", "multipart/form-data; boundary=zzz").problem(t, 400, "invalid")
	evs, _ := e.store.ListAudit(t.Context(), store.AuditFilter{Kinds: []string{"legacy.import"}})
	if len(evs) != 3 || evs[0].ActorID != "operator:admin-token" {
		t.Errorf("import events: %+v", evs)
	}
}

// TestConcurrentWritersOneWins: on every backend, writers holding one
// version of an organization, a membership, a person, a client, an
// invitation and an application at once: exactly one succeeds, the others get 412, and
// exactly one audit event is written.
func TestConcurrentWritersOneWins(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			clock := storetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
			e := newEnv(t, open(t, clock.Now), clock, nil)
			f := newFixture(e)
			org := Prefix + "/organizations/" + f.org.ID
			inv, app := org+"/invitations/"+f.invitation.ID, Prefix+"/applications/"+f.application.ID
			for _, w := range []struct{ read, method, path, body string }{
				{org, "PATCH", org, `{"name":"Writer %d"}`},
				{org + "/memberships/" + f.normal.ID, "PATCH", org + "/memberships/" + f.normal.ID, `{"role":"%s"}`},
				{Prefix + "/users/" + f.normal.ID, "PATCH", Prefix + "/users/" + f.normal.ID, `{"name":"Writer %d"}`},
				{Prefix + "/clients/" + f.client.ID, "PATCH", Prefix + "/clients/" + f.client.ID, `{"name":"Writer %d"}`},
				{inv, "POST", inv + "/resend", ``},
				{app, "POST", app + "/approve", ``},
			} {
				before := e.auditCount()
				tag := e.do("GET", w.read, nil).want(t, 200).header.Get("ETag")
				const n = 12
				status := make([]int, n)
				together(n, func(i int) {
					var body any
					switch {
					case strings.Contains(w.body, "%s"):
						body = fmt.Sprintf(w.body, []string{"visitor", "administrator"}[i%2])
					case w.body != "":
						body = fmt.Sprintf(w.body, i)
					}
					status[i] = e.do(w.method, w.path, body, "If-Match", tag).status
				})
				won := 0
				for _, s := range status {
					switch s {
					case http.StatusOK:
						won++
					case http.StatusPreconditionFailed:
					default:
						t.Errorf("%s: status %d", w.path, s)
					}
				}
				if won != 1 {
					t.Errorf("%s: %d writers won, want 1 (%v)", w.path, won, status)
				}
				if got := e.auditCount() - before; got < 1 || (got != 1 && !strings.Contains(w.path, "/approve")) {
					t.Errorf("%s: %d audit events", w.path, got)
				}
			}
		})
	}
}
