package orgs

import "github.com/customerhub/hubid/store"

// In returns the service bound to the transaction tx: its reads and
// writes join tx (a store bound to a transaction nests InTx as a
// savepoint). An adapter uses it to make a precondition of its own and
// the change one atomic step — the admin API checks If-Match against the
// locked row, then calls the method, in one transaction. The rules,
// audit events and mail are those of the unbound service.
func (s *Service) In(tx store.Durable) *Service {
	d := s.d
	d.Store = tx
	return &Service{d: d}
}

// AuditID is the ActorID of a's audit events: the person's account ID, or
// "operator:NAME" (operator:cli for the command, operator:admin-token and
// operator:client:ID for the admin API).
func (a Actor) AuditID() string { return a.auditID() }
