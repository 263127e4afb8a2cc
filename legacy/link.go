package legacy

import (
	"context"
	"errors"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// link links g's login ID to userID and makes them a member of its
// organization (FirstRole when it has no administrator, else LaterRole; an
// existing member keeps their role), under the organization's lock, and
// writes the audit event to the person's and the organization's history.
// Linking the same login ID again changes nothing.
func (s *Service) link(ctx context.Context, tx store.Durable, actorID, userID, serviceCode string, g store.LegacyRegistration, m Meta) error {
	links, err := tx.ListLegacyLinksByUser(ctx, userID)
	if err != nil {
		return err
	}
	for _, k := range links {
		if k.ServiceID == g.ServiceID {
			if k.LoginID == g.LoginID {
				return nil
			}
			return ErrOnePerService
		}
	}
	var role store.Role
	var orgID string
	err = tx.LinkLegacyLoginID(ctx, store.LegacyLink{UserID: userID, ServiceID: g.ServiceID, LoginID: g.LoginID, LinkedAt: s.d.Now()},
		func(org store.Organization, ms []store.Membership) (*store.Membership, error) {
			orgID = org.ID
			hasAdmin := false
			for _, x := range ms {
				if x.UserID == userID {
					role = x.Role
					return nil, nil
				}
				hasAdmin = hasAdmin || x.Role == store.RoleAdministrator
			}
			role = s.d.LaterRole
			if !hasAdmin {
				role = s.d.FirstRole
			}
			return &store.Membership{UserID: userID, OrgID: org.ID, Role: role, CreatedAt: s.d.Now()}, nil
		})
	if err != nil {
		return err
	}
	d := detail(serviceCode, g.LoginID)
	d["role"] = string(role)
	return s.audit(ctx, tx, store.AuditEvent{Kind: AuditLinked, ActorID: actorID, UserID: userID, OrgID: orgID,
		IP: m.IP, UserAgent: m.UserAgent, Detail: d})
}

// Link links a login ID to a person by an operator or an organization
// administrator (the adapter authorizes), in any phase: after the cutover
// this is how late arrivals are linked.
func (s *Service) Link(ctx context.Context, actorID, email, serviceCode, loginID string) (store.User, error) {
	svc, err := s.service(ctx, serviceCode)
	if err != nil {
		return store.User{}, err
	}
	u, err := s.d.Store.GetUserByEmail(ctx, email)
	if err != nil {
		return u, storeErr("no account uses "+email, err)
	}
	if _, err := s.d.Store.GetLegacyLoginID(ctx, svc.ID, loginID); err != nil {
		return u, storeErr("unknown login ID "+loginID+" of "+svc.Code, err)
	}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		return s.link(ctx, tx, actorID, u.ID, svc.Code, store.LegacyRegistration{ServiceID: svc.ID, LoginID: loginID}, Meta{})
	})
	return u, s.linkErr(err)
}

// Unlink removes a person's login ID of a service; tokens issued after it
// no longer carry it.
func (s *Service) Unlink(ctx context.Context, actorID, email, serviceCode string) (store.LegacyLink, error) {
	svc, err := s.service(ctx, serviceCode)
	if err != nil {
		return store.LegacyLink{}, err
	}
	u, err := s.d.Store.GetUserByEmail(ctx, email)
	if err != nil {
		return store.LegacyLink{}, storeErr("no account uses "+email, err)
	}
	var gone store.LegacyLink
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		links, err := tx.ListLegacyLinksByUser(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, k := range links {
			if k.ServiceID == svc.ID {
				gone = k
			}
		}
		if gone.LoginID == "" {
			return apperr.New(apperr.NotFound, "the account has no login ID of "+svc.Code)
		}
		if err := tx.DeleteLegacyLink(ctx, u.ID, svc.ID); err != nil {
			return err
		}
		l, err := tx.GetLegacyLoginID(ctx, svc.ID, gone.LoginID)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, store.AuditEvent{Kind: AuditUnlinked, ActorID: actorID, UserID: u.ID, OrgID: l.OrgID,
			Detail: detail(svc.Code, gone.LoginID)})
	})
	return gone, storeErr("unlink", err)
}

// Report is the progress per service and organization.
func (s *Service) Report(ctx context.Context, serviceCode string) ([]store.LegacyReportRow, error) {
	id := ""
	if serviceCode != "" {
		svc, err := s.service(ctx, serviceCode)
		if err != nil {
			return nil, err
		}
		id = svc.ID
	}
	rows, err := s.d.Store.LegacyReport(ctx, id)
	return rows, storeErr("report", err)
}

// IsLegacyLoginID reports whether s is a legacy login ID of some service,
// for the sign-in page to tell people who type one into the email box
// what to do. It answers false outside the window and after the cutover.
func (s *Service) IsLegacyLoginID(ctx context.Context, id string) (bool, error) {
	if ph := s.Phase(); ph == PhaseNone || ph == PhaseCutover || id == "" {
		return false, nil
	}
	svcs, err := s.d.Store.ListServices(ctx)
	if err != nil {
		return false, storeErr("list services", err)
	}
	for _, v := range svcs {
		_, err := s.d.Store.GetLegacyLoginID(ctx, v.ID, id)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, storeErr("get login ID", err)
		}
	}
	return false, nil
}

// Services returns the services a login ID may be chosen for (those with
// login IDs imported), for the pre-registration form.
func (s *Service) Services(ctx context.Context) ([]store.Service, error) {
	all, err := s.d.Store.ListServices(ctx)
	return all, storeErr("list services", err)
}
