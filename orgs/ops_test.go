package orgs_test

import "github.com/customerhub/hubid/orgs"

// namedOp is an administrative operation for TestAuthorizationEveryOperation.
type namedOp struct {
	name string
	fn   func(e *env, a orgs.Actor, org string) error
}

// extraOperations are the operations of invitations and applications.
func extraOperations() []namedOp { return nil }
