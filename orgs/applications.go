package orgs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// Audit event kinds of service applications.
const (
	AuditApplicationCreated  = "org.application.created"
	AuditApplicationApproved = "org.application.approved"
	AuditApplicationRejected = "org.application.rejected"
)

// maxTextRunes bounds an application's note and a rejection's reason.
const maxTextRunes = 1000

// checkText trims a free text and checks its length and characters.
func checkText(s, what string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", invalid("enter " + what)
	}
	if utf8.RuneCountInString(s) > maxTextRunes || !utf8.ValidString(s) ||
		strings.ContainsFunc(s, func(r rune) bool { return isControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return "", invalid(what + " must be at most 1000 characters of text")
	}
	return s, nil
}

// Service resolves a service by ID or, failing that, by code;
// apperr.NotFound when neither matches.
func (s *Service) Service(ctx context.Context, idOrCode string) (store.Service, error) {
	idOrCode = strings.TrimSpace(idOrCode)
	if idOrCode == "" {
		return store.Service{}, invalid("no service given")
	}
	v, err := s.d.Store.GetService(ctx, idOrCode)
	if errors.Is(err, store.ErrNotFound) {
		v, err = s.d.Store.GetServiceByCode(ctx, idOrCode)
	}
	if err != nil {
		return store.Service{}, notFound(err, "service")
	}
	return v, nil
}

// Apply applies, for an organization, for a service it is not entitled to
// (administrators of the organization). The application is pending until
// an operator approves or rejects it. apperr.Conflict when the
// organization is entitled already or has a pending application for it.
func (s *Service) Apply(ctx context.Context, actor Actor, orgID, service, note string) (store.ServiceApplication, error) {
	note, err := checkText(note, "the note", false)
	if err != nil {
		return store.ServiceApplication{}, err
	}
	if err := s.Authorize(ctx, actor, orgID, ActApplyService, ""); err != nil {
		return store.ServiceApplication{}, err
	}
	v, err := s.Service(ctx, service)
	if err != nil {
		return store.ServiceApplication{}, err
	}
	id, err := s.newID()
	if err != nil {
		return store.ServiceApplication{}, err
	}
	a := store.ServiceApplication{ID: id, OrgID: orgID, ServiceID: v.ID, ApplicantID: actor.UserID, Note: note,
		Status: store.ApplicationPending, CreatedAt: s.now()}
	if actor.IsOperator() {
		a.ApplicantID = actor.auditID()
	}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		es, err := tx.ListEntitlementsByOrg(ctx, orgID)
		if err != nil {
			return fmt.Errorf("orgs: entitlements: %w", err)
		}
		for _, e := range es {
			if e.ServiceID == v.ID {
				return apperr.New(apperr.Conflict, "the organization may use this service already")
			}
		}
		if err := tx.CreateServiceApplication(ctx, a); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return apperr.Wrap(apperr.Conflict, "the organization has a pending application for this service", err)
			}
			return notFound(err, "organization")
		}
		return s.audit(ctx, tx, actor, AuditApplicationCreated, orgID, "",
			map[string]string{"application": id, "service": v.Code})
	})
	if err != nil {
		return store.ServiceApplication{}, err
	}
	return a, nil
}

// ApplicationQuery selects applications.
type ApplicationQuery struct {
	OrgID  string                  // required for a person; "" = every organization (operators)
	Status store.ApplicationStatus // "" = every status
}

// ListApplications returns applications, newest first: an organization's
// to its administrators, any to operators.
func (s *Service) ListApplications(ctx context.Context, actor Actor, q ApplicationQuery) ([]store.ServiceApplication, error) {
	if q.Status != "" && q.Status != store.ApplicationPending && q.Status != store.ApplicationApproved && q.Status != store.ApplicationRejected {
		return nil, invalid("the status must be pending, approved or rejected")
	}
	if !actor.IsOperator() && q.OrgID == "" {
		return nil, errForbidden(errors.New("orgs: a person lists one organization's applications"))
	}
	if q.OrgID != "" {
		if err := s.Authorize(ctx, actor, q.OrgID, ActApplyService, ""); err != nil {
			return nil, err
		}
	}
	as, err := s.d.Store.ListServiceApplications(ctx, store.ApplicationFilter{OrgID: q.OrgID, Status: q.Status})
	if err != nil {
		return nil, fmt.Errorf("orgs: applications: %w", err)
	}
	return as, nil
}

// GetApplication returns one application, to its organization's
// administrators and operators.
func (s *Service) GetApplication(ctx context.Context, actor Actor, id string) (store.ServiceApplication, error) {
	a, err := s.d.Store.GetServiceApplication(ctx, id)
	if err != nil {
		if actor.IsOperator() {
			return store.ServiceApplication{}, notFound(err, "application")
		}
		return store.ServiceApplication{}, errForbidden(err) // says nothing of other organizations' IDs
	}
	if err := s.Authorize(ctx, actor, a.OrgID, ActApplyService, ""); err != nil {
		return store.ServiceApplication{}, err
	}
	return a, nil
}

// ApproveApplication approves a pending application (operators): the
// organization becomes entitled to the service, and the applicant is
// mailed.
func (s *Service) ApproveApplication(ctx context.Context, actor Actor, id string) (store.ServiceApplication, error) {
	return s.decide(ctx, actor, id, store.ApplicationApproved, "")
}

// RejectApplication rejects a pending application with a reason
// (operators); the applicant is mailed the reason.
func (s *Service) RejectApplication(ctx context.Context, actor Actor, id, reason string) (store.ServiceApplication, error) {
	reason, err := checkText(reason, "a reason", true)
	if err != nil {
		return store.ServiceApplication{}, err
	}
	return s.decide(ctx, actor, id, store.ApplicationRejected, reason)
}

func (s *Service) decide(ctx context.Context, actor Actor, id string, to store.ApplicationStatus, reason string) (store.ServiceApplication, error) {
	if !actor.IsOperator() {
		return store.ServiceApplication{}, errForbidden(errors.New("orgs: only operators decide applications"))
	}
	now := s.now()
	var out store.ServiceApplication
	err := s.d.Store.InTx(ctx, func(tx store.Durable) error {
		var err error
		out, err = tx.UpdateServiceApplication(ctx, id, func(a *store.ServiceApplication) error {
			if a.Status != store.ApplicationPending {
				return apperr.New(apperr.Conflict, "the application was "+string(a.Status)+" already")
			}
			a.Status, a.Reason, a.DecidedBy, a.DecidedAt = to, reason, actor.auditID(), now
			return nil
		})
		if err != nil {
			return notFound(err, "application")
		}
		kind, mailKind := AuditApplicationRejected, MailApplicationRejected
		if to == store.ApplicationApproved {
			kind, mailKind = AuditApplicationApproved, MailApplicationApproved
			if err := tx.PutEntitlement(ctx, store.Entitlement{OrgID: out.OrgID, ServiceID: out.ServiceID, CreatedAt: now}); err != nil {
				return fmt.Errorf("orgs: entitle: %w", err)
			}
		}
		if err := s.mailDecision(ctx, tx, out, mailKind); err != nil {
			return err
		}
		detail := map[string]string{"application": id, "service": out.ServiceID}
		if reason != "" {
			detail["reason"] = reason
		}
		return s.audit(ctx, tx, actor, kind, out.OrgID, out.ApplicantID, detail)
	})
	if err != nil {
		return store.ServiceApplication{}, err
	}
	return out, nil
}

// mailDecision mails the applicant the decision; an applicant whose
// account is gone gets nothing (logged).
func (s *Service) mailDecision(ctx context.Context, tx Tx, a store.ServiceApplication, kind string) error {
	u, err := tx.GetUser(ctx, a.ApplicantID)
	if errors.Is(err, store.ErrNotFound) || a.ApplicantID == "" {
		s.d.Logger.InfoContext(ctx, "application decided: the applicant has no account, no mail sent",
			slog.String("application", a.ID))
		return nil
	}
	if err != nil {
		return fmt.Errorf("orgs: applicant: %w", err)
	}
	org, err := tx.GetOrganization(ctx, a.OrgID)
	if err != nil {
		return fmt.Errorf("orgs: organization: %w", err)
	}
	v, err := tx.GetService(ctx, a.ServiceID)
	if err != nil {
		return fmt.Errorf("orgs: service: %w", err)
	}
	m := Mail{Kind: kind, To: u.Email, Locale: u.Locale, Data: ApplicationMail{Name: u.Name, OrgName: org.Name,
		ServiceName: v.Name, Reason: a.Reason}}
	if err := s.d.Mailer.QueueMail(ctx, tx, m); err != nil {
		return fmt.Errorf("orgs: queue decision mail: %w", err)
	}
	return nil
}
