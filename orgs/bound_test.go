package orgs_test

import (
	"errors"
	"testing"
	"time"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// TestServiceInTx: a service bound to a transaction writes in it — its
// change and audit event roll back with the transaction — and operators
// are audited as operator:NAME.
func TestServiceInTx(t *testing.T) {
	d := sqliteBackend(t, func() time.Time { return t0 })
	svc, err := orgs.New(orgs.Deps{Store: d, Mailer: &mailer{}, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if got := orgs.Operator("admin-token").AuditID(); got != "operator:admin-token" {
		t.Errorf("AuditID = %q", got)
	}
	if got := orgs.Person("u1").AuditID(); got != "u1" {
		t.Errorf("a person's AuditID = %q", got)
	}
	errStop := errors.New("stop")
	err = d.InTx(t.Context(), func(tx store.Durable) error {
		if _, err := svc.In(tx).CreateOrganization(t.Context(), orgs.Operator("admin-token"), "ACME", "Acme"); err != nil {
			return err
		}
		if _, err := tx.GetOrganizationByCode(t.Context(), "ACME"); err != nil {
			t.Errorf("not visible in the transaction: %v", err)
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	if _, err := d.GetOrganizationByCode(t.Context(), "ACME"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the organization outlived the rolled-back transaction: %v", err)
	}
	if evs, _ := d.ListAudit(t.Context(), store.AuditFilter{}); len(evs) != 0 {
		t.Errorf("%d audit events outlived it", len(evs))
	}
	o, err := svc.CreateOrganization(t.Context(), orgs.Operator("admin-token"), "ACME", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := d.ListAudit(t.Context(), store.AuditFilter{OrgID: o.ID})
	if len(evs) != 1 || evs[0].ActorID != "operator:admin-token" {
		t.Errorf("audit: %+v", evs)
	}
}
