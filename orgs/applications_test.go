package orgs_test

import (
	"context"
	"testing"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

func TestApplicationApproved(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	op := orgs.Operator("cli")
	_, err := e.svc.Apply(ctx, p("alice"), e.orgA, "nk-ships", "")
	wantCode(t, "entitled already", err, apperr.Conflict)
	_, err = e.svc.Apply(ctx, p("alice"), e.orgA, "nope", "")
	wantCode(t, "unknown service", err, apperr.NotFound)
	a, err := e.svc.Apply(ctx, p("alice"), e.orgA, "nk-pass", "  for the harbour office ")
	must(t, err)
	if a.Status != store.ApplicationPending || a.ServiceID != "s2" || a.ApplicantID != "alice" || a.Note != "for the harbour office" {
		t.Fatalf("application: %+v", a)
	}
	_, err = e.svc.Apply(ctx, p("anna"), e.orgA, "s2", "")
	wantCode(t, "pending already", err, apperr.Conflict)

	_, err = e.svc.ApproveApplication(ctx, p("alice"), a.ID)
	wantCode(t, "an administrator approves", err, apperr.Forbidden)
	got, err := e.svc.GetApplication(ctx, p("anna"), a.ID)
	must(t, err)
	if got.Status != store.ApplicationPending {
		t.Fatalf("status: %+v", got)
	}
	_, err = e.svc.GetApplication(ctx, p("bob"), a.ID)
	wantCode(t, "another organization's administrator", err, apperr.Forbidden)

	mails := e.mail.count()
	d, err := e.svc.ApproveApplication(ctx, op, a.ID)
	must(t, err)
	if d.Status != store.ApplicationApproved || d.DecidedBy != "operator:cli" || !d.DecidedAt.Equal(t0) {
		t.Fatalf("approved: %+v", d)
	}
	es, _ := e.st.ListEntitlementsByOrg(ctx, e.orgA)
	if len(es) != 2 {
		t.Fatalf("entitlements: %+v", es)
	}
	m := e.mail.last(t)
	if e.mail.count() != mails+1 || m.Kind != orgs.MailApplicationApproved || m.To != "alice@example.com" ||
		m.Data.(orgs.ApplicationMail).ServiceName != "NK-PASS" {
		t.Fatalf("mail: %+v", m)
	}
	_, err = e.svc.RejectApplication(ctx, op, a.ID, "too late")
	wantCode(t, "decided already", err, apperr.Conflict)

	list, err := e.svc.ListApplications(ctx, p("alice"), orgs.ApplicationQuery{OrgID: e.orgA})
	must(t, err)
	if len(list) != 1 || list[0].Status != store.ApplicationApproved {
		t.Fatalf("list: %+v", list)
	}
	evs := e.audit(e.orgA)
	if len(evs) != 2 || evs[0].Kind != orgs.AuditApplicationApproved || evs[0].ActorID != "operator:cli" || evs[1].ActorID != "alice" {
		t.Fatalf("audit: %+v", evs)
	}
}

func TestApplicationRejected(t *testing.T) {
	e := newEnv(t, sqliteBackend)
	ctx := context.Background()
	op := orgs.Operator("cli")
	_, err := e.svc.Apply(ctx, p("nora"), e.orgB, "nk-ships", "")
	wantCode(t, "a visitor applies", err, apperr.Forbidden)
	_, err = e.svc.Apply(ctx, p("alice"), e.orgB, "nk-ships", "")
	wantCode(t, "A's administrator applies for B", err, apperr.Forbidden)
	a, err := e.svc.Apply(ctx, p("bob"), e.orgB, "nk-ships", "")
	must(t, err)
	_, err = e.svc.RejectApplication(ctx, op, a.ID, "  ")
	wantCode(t, "no reason", err, apperr.Invalid)
	d, err := e.svc.RejectApplication(ctx, op, a.ID, "no contract yet")
	must(t, err)
	if d.Status != store.ApplicationRejected || d.Reason != "no contract yet" {
		t.Fatalf("rejected: %+v", d)
	}
	if es, _ := e.st.ListEntitlementsByOrg(ctx, e.orgB); len(es) != 0 {
		t.Fatalf("a rejection entitled: %+v", es)
	}
	m := e.mail.last(t)
	if m.Kind != orgs.MailApplicationRejected || m.To != "bob@example.com" || m.Data.(orgs.ApplicationMail).Reason != "no contract yet" {
		t.Fatalf("mail: %+v", m)
	}
	// Applying again after a rejection is allowed.
	_, err = e.svc.Apply(ctx, p("bob"), e.orgB, "nk-ships", "we signed")
	must(t, err)
	pending, err := e.svc.ListApplications(ctx, op, orgs.ApplicationQuery{Status: store.ApplicationPending})
	must(t, err)
	if len(pending) != 1 {
		t.Fatalf("pending: %+v", pending)
	}
	_, err = e.svc.ListApplications(ctx, p("bob"), orgs.ApplicationQuery{})
	wantCode(t, "a person lists every organization", err, apperr.Forbidden)
	_, err = e.svc.ListApplications(ctx, op, orgs.ApplicationQuery{Status: "maybe"})
	wantCode(t, "bad status", err, apperr.Invalid)
	_, err = e.svc.ApproveApplication(ctx, op, "nope")
	wantCode(t, "missing", err, apperr.NotFound)
}
