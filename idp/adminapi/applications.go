package adminapi

import (
	"net/http"
	"time"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

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

// listApplications lists service applications oldest first (filters:
// org_id, status).
func (a *API) listApplications(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ctx, q := r.Context(), r.URL.Query()
	status := store.ApplicationStatus(q.Get("status"))
	switch status {
	case "", store.ApplicationPending, store.ApplicationApproved, store.ApplicationRejected:
	default:
		return errInvalid("status: one of pending, approved, rejected")
	}
	as, err := a.cfg.Orgs.ListApplications(ctx, ActorOf(ctx), orgs.ApplicationQuery{OrgID: q.Get("org_id"), Status: status})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paginate(as, p, func(x store.ServiceApplication) string { return timeKey(x.CreatedAt, x.ID) }, applicationView), "")
	return nil
}

func (a *API) getApplication(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	app, err := a.cfg.Orgs.GetApplication(ctx, ActorOf(ctx), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := applicationView(app)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// decide locks the application, checks If-Match against it and lets the
// service decide, in one transaction: the entitlement, the mail to the
// applicant (outbox) and the audit event commit with the decision.
func (a *API) decide(w http.ResponseWriter, r *http.Request, reject bool) error {
	var in ApplicationReject
	if reject {
		if err := a.decode(r, &in); err != nil {
			return err
		}
	}
	ctx, actor, id := r.Context(), ActorOf(r.Context()), r.PathValue("id")
	var out store.ServiceApplication
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		_, err := tx.UpdateServiceApplication(ctx, id, func(x *store.ServiceApplication) error {
			return requireMatch(r, applicationView(*x))
		})
		if err != nil {
			return notFound(err, "application")
		}
		if reject {
			out, err = svc.RejectApplication(ctx, actor, id, in.Reason)
		} else {
			out, err = svc.ApproveApplication(ctx, actor, id)
		}
		return err
	})
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
