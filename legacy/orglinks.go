package legacy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// What an organization's administrator does with the organization's login
// IDs (the organization console): the rules are here, not in the pages.
var (
	// ErrNotAdministrator: the actor does not administer the organization.
	ErrNotAdministrator = apperr.New(apperr.Forbidden, "you may not do this in this organization")
	// ErrNotOrgLoginID: the login ID does not belong to the organization.
	ErrNotOrgLoginID = apperr.New(apperr.NotFound, "the organization has no such login ID")
	// ErrNotMember: the person is not a member of the organization.
	ErrNotMember = apperr.New(apperr.NotFound, "the person is not a member of the organization")
)

// OrgLoginID is one of an organization's login IDs with the people linked
// to it.
type OrgLoginID struct {
	Service store.Service
	LoginID store.LegacyLoginID
	Linked  []store.User // by email
}

// orgRole returns userID's role in orgID ("" when not a member).
func orgRole(ctx context.Context, tx store.Durable, userID, orgID string) (store.Role, error) {
	ms, err := tx.ListMembershipsByUser(ctx, userID)
	if err != nil {
		return "", storeErr("memberships", err)
	}
	for _, m := range ms {
		if m.OrgID == orgID {
			return m.Role, nil
		}
	}
	return "", nil
}

// requireAdmin refuses an actor who does not administer orgID.
func requireAdmin(ctx context.Context, tx store.Durable, actorID, orgID string) error {
	if actorID == "" || orgID == "" {
		return ErrNotAdministrator
	}
	r, err := orgRole(ctx, tx, actorID, orgID)
	if err != nil {
		return err
	}
	if r != store.RoleAdministrator {
		return ErrNotAdministrator
	}
	return nil
}

// inTx runs fn in a transaction of the store, passing apperr values
// through.
func (s *Service) inTx(ctx context.Context, what string, fn func(tx store.Durable) error) error {
	return storeErr(what, s.d.Store.InTx(ctx, fn))
}

// OrgLoginIDs returns an organization's login IDs of every service, by
// service code then login ID, with the people linked to each; only to an
// administrator of the organization (actorID).
func (s *Service) OrgLoginIDs(ctx context.Context, actorID, orgID string) ([]OrgLoginID, error) {
	var out []OrgLoginID
	err := s.inTx(ctx, "organization login IDs", func(tx store.Durable) error {
		if err := requireAdmin(ctx, tx, actorID, orgID); err != nil {
			return err
		}
		ids, err := tx.ListLegacyLoginIDsByOrg(ctx, orgID)
		if err != nil || len(ids) == 0 {
			return err
		}
		byService := map[string][]store.LegacyLoginID{}
		for _, l := range ids {
			byService[l.ServiceID] = append(byService[l.ServiceID], l)
		}
		svcs, err := tx.ListServices(ctx)
		if err != nil {
			return err
		}
		slices.SortFunc(svcs, func(a, b store.Service) int { return cmp.Compare(a.Code, b.Code) })
		for _, v := range svcs {
			for _, l := range byService[v.ID] {
				row := OrgLoginID{Service: v, LoginID: l}
				links, err := tx.ListLegacyLinksByLoginID(ctx, v.ID, l.LoginID)
				if err != nil {
					return err
				}
				for _, k := range links {
					u, err := tx.GetUser(ctx, k.UserID)
					if errors.Is(err, store.ErrNotFound) {
						continue
					}
					if err != nil {
						return err
					}
					row.Linked = append(row.Linked, u)
				}
				slices.SortFunc(row.Linked, func(a, b store.User) int { return cmp.Compare(store.FoldEmail(a.Email), store.FoldEmail(b.Email)) })
				out = append(out, row)
			}
		}
		return nil
	})
	return out, err
}

// orgLoginID returns the login ID of serviceCode in orgID.
func (s *Service) orgLoginID(ctx context.Context, tx store.Durable, orgID, serviceCode, loginID string) (store.Service, error) {
	svc, err := tx.GetServiceByCode(ctx, serviceCode)
	if errors.Is(err, store.ErrNotFound) {
		return svc, ErrNotOrgLoginID
	}
	if err != nil {
		return svc, err
	}
	l, err := tx.GetLegacyLoginID(ctx, svc.ID, loginID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.OrgID != orgID) {
		return svc, ErrNotOrgLoginID
	}
	return svc, err
}

// requireMember refuses a person who is not a member of orgID.
func requireMember(ctx context.Context, tx store.Durable, userID, orgID string) error {
	r, err := orgRole(ctx, tx, userID, orgID)
	if err != nil {
		return err
	}
	if r == "" {
		return ErrNotMember
	}
	return nil
}

// LinkMember links one of orgID's login IDs to userID, a member of
// orgID, by an administrator of orgID (actorID), in any phase (after the
// cutover too). The linking rules of Link apply (one login ID per service
// and person: ErrOnePerService); the event names the administrator.
func (s *Service) LinkMember(ctx context.Context, actorID, orgID, userID, serviceCode, loginID string) error {
	err := s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := requireAdmin(ctx, tx, actorID, orgID); err != nil {
			return err
		}
		svc, err := s.orgLoginID(ctx, tx, orgID, serviceCode, loginID)
		if err != nil {
			return err
		}
		if err := requireMember(ctx, tx, userID, orgID); err != nil {
			return err
		}
		return s.link(ctx, tx, actorID, userID, svc.Code, store.LegacyRegistration{ServiceID: svc.ID, LoginID: loginID}, Meta{})
	})
	return s.linkErr(err)
}

// UnlinkMember removes userID's link to one of orgID's login IDs of
// serviceCode, by an administrator of orgID (actorID); tokens issued
// after it no longer carry the login ID. A link to another organization's
// login ID is ErrNotOrgLoginID, and nothing changes.
func (s *Service) UnlinkMember(ctx context.Context, actorID, orgID, userID, serviceCode string) (store.LegacyLink, error) {
	var gone store.LegacyLink
	err := s.inTx(ctx, "unlink", func(tx store.Durable) error {
		if err := requireAdmin(ctx, tx, actorID, orgID); err != nil {
			return err
		}
		links, err := tx.ListLegacyLinksByUser(ctx, userID)
		if err != nil {
			return err
		}
		svc, err := tx.GetServiceByCode(ctx, serviceCode)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotOrgLoginID
		}
		if err != nil {
			return err
		}
		for _, k := range links {
			if k.ServiceID == svc.ID {
				gone = k
			}
		}
		if gone.LoginID == "" {
			return ErrNotOrgLoginID
		}
		if _, err := s.orgLoginID(ctx, tx, orgID, svc.Code, gone.LoginID); err != nil {
			return err
		}
		if err := tx.DeleteLegacyLink(ctx, userID, svc.ID); err != nil {
			return fmt.Errorf("legacy: unlink: %w", err)
		}
		return s.audit(ctx, tx, store.AuditEvent{Kind: AuditUnlinked, ActorID: actorID, UserID: userID, OrgID: orgID,
			Detail: detail(svc.Code, gone.LoginID)})
	})
	if err != nil {
		return store.LegacyLink{}, err
	}
	return gone, nil
}
