package adminapi

import (
	"errors"
	"net/http"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// inTx runs fn in one transaction with the organizations service bound
// to it (orgs.Service.In): a guard (lock and If-Match) and the service's
// change commit together or not at all. The service audits the change
// with the actor fn passes it (ActorOf).
func (a *API) inTx(r *http.Request, fn func(tx store.Durable, svc *orgs.Service) error) error {
	return a.cfg.Store.InTx(r.Context(), func(tx store.Durable) error { return fn(tx, a.cfg.Orgs.In(tx)) })
}

// errUnchanged ends a write transaction that found nothing to change: it
// rolls back (no audit event) and the handler answers with the current
// state.
var errUnchanged = errors.New("unchanged")

// notFound turns the store's not-found into a 404 naming the resource.
func notFound(err error, what string) error {
	if err != nil && apperr.CodeOf(err) == apperr.NotFound {
		return apperr.Wrap(apperr.NotFound, "no such "+what, err)
	}
	return err
}

func isNotFound(err error) bool { return apperr.CodeOf(err) == apperr.NotFound }
