package adminapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Orgs is what the API calls of the organizations service (orgs.Service):
// its rules (who may decide, pending only, entitlement and mail on
// approval, audit) are applied there, not here.
type Orgs interface {
	ListApplications(ctx context.Context, actor orgs.Actor, q orgs.ApplicationQuery) ([]store.ServiceApplication, error)
	GetApplication(ctx context.Context, actor orgs.Actor, id string) (store.ServiceApplication, error)
	ApproveApplication(ctx context.Context, actor orgs.Actor, id string) (store.ServiceApplication, error)
	RejectApplication(ctx context.Context, actor orgs.Actor, id, reason string) (store.ServiceApplication, error)
}

var _ Orgs = (*orgs.Service)(nil)

// Application is an organization's application for a service.
type Application struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"org_id"`
	ServiceID   string    `json:"service_id"`
	ApplicantID string    `json:"applicant_id"`
	Note        string    `json:"note"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason"`
	DecidedBy   string    `json:"decided_by"`
	CreatedAt   time.Time `json:"created_at"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
}

func applicationView(a store.ServiceApplication) Application {
	return Application{ID: a.ID, OrgID: a.OrgID, ServiceID: a.ServiceID, ApplicantID: a.ApplicantID, Note: a.Note,
		Status: string(a.Status), Reason: a.Reason, DecidedBy: a.DecidedBy, CreatedAt: a.CreatedAt.UTC(), DecidedAt: a.DecidedAt.UTC()}
}

// ApplicationReject is the body of POST /applications/{id}/reject.
type ApplicationReject struct {
	Reason string `json:"reason"`
}

// actorFor is the operator as the organizations service knows it.
func actorFor(r *http.Request) orgs.Actor { return orgs.Operator(ActorOf(r.Context())) }

func (a *API) orgsService() (Orgs, error) {
	if a.cfg.Orgs == nil {
		return nil, apperr.New(apperr.Unavailable, "the organizations service is not configured")
	}
	return a.cfg.Orgs, nil
}

func (a *API) listApplications(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	svc, err := a.orgsService()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	as, err := svc.ListApplications(r.Context(), actorFor(r), orgs.ApplicationQuery{OrgID: q.Get("org_id"), Status: store.ApplicationStatus(q.Get("status"))})
	if err != nil {
		return err
	}
	slices.SortFunc(as, func(x, y store.ServiceApplication) int { return strings.Compare(x.ID, y.ID) })
	writeJSON(w, http.StatusOK, paginate(as, p, func(x store.ServiceApplication) string { return x.ID }, applicationView), "")
	return nil
}

func (a *API) getApplication(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.orgsService()
	if err != nil {
		return err
	}
	app, err := svc.GetApplication(r.Context(), actorFor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := applicationView(app)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// decide checks If-Match against the application, then lets the service
// decide. The check is not in the service's transaction, but it need not
// be: only a pending application changes, and only by a decision, which
// the service makes once (a second decision is 409).
func (a *API) decide(w http.ResponseWriter, r *http.Request, reject bool) error {
	var in ApplicationReject
	if reject {
		if err := a.decode(r, &in); err != nil {
			return err
		}
	}
	svc, err := a.orgsService()
	if err != nil {
		return err
	}
	ctx, actor, id := r.Context(), actorFor(r), r.PathValue("id")
	cur, err := svc.GetApplication(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := requireMatch(r, applicationView(cur)); err != nil {
		return err
	}
	var out store.ServiceApplication
	if reject {
		out, err = svc.RejectApplication(ctx, actor, id, in.Reason)
	} else {
		out, err = svc.ApproveApplication(ctx, actor, id)
	}
	if err != nil {
		return err
	}
	v := applicationView(out)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

func (a *API) approveApplication(w http.ResponseWriter, r *http.Request) error {
	return a.decide(w, r, false)
}

func (a *API) rejectApplication(w http.ResponseWriter, r *http.Request) error {
	return a.decide(w, r, true)
}
