package orgs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// Audit event kinds of operators' changes (OrgID set where one
// organization is concerned).
const (
	AuditOrgCreated         = "org.created"
	AuditOrgUpdated         = "org.updated"
	AuditOrgDeleted         = "org.deleted"
	AuditServiceCreated     = "service.created"
	AuditServiceUpdated     = "service.updated"
	AuditServiceDeleted     = "service.deleted"
	AuditEntitlementGranted = "org.entitlement.granted"
	AuditEntitlementRevoked = "org.entitlement.revoked"
	AuditUserCreated        = "user.created"
	AuditUserUpdated        = "user.updated"
	AuditUserDeleted        = "user.deleted"
)

// codeRE is what an organization or service code may be (as in seed
// files).
var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkCode(code string) (string, error) {
	code = strings.TrimSpace(code)
	if !codeRE.MatchString(code) {
		return "", invalid("a code is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	return code, nil
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes || !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		return "", invalid("a name is 1-200 characters of text")
	}
	return name, nil
}

// operator refuses anyone but an operator.
func operator(a Actor) error {
	if !a.IsOperator() {
		return errForbidden(errors.New("orgs: operators only"))
	}
	return nil
}

// conflictOr maps ErrAlreadyExists to a Conflict saying what is taken.
func conflictOr(err error, what string) error {
	if errors.Is(err, store.ErrAlreadyExists) {
		return apperr.Wrap(apperr.Conflict, what+" is taken", err)
	}
	return err
}

// CreateOrganization creates an organization (operators).
func (s *Service) CreateOrganization(ctx context.Context, actor Actor, code, name string) (store.Organization, error) {
	if err := operator(actor); err != nil {
		return store.Organization{}, err
	}
	code, err := checkCode(code)
	if err != nil {
		return store.Organization{}, err
	}
	if name, err = checkName(name); err != nil {
		return store.Organization{}, err
	}
	id, err := s.newID()
	if err != nil {
		return store.Organization{}, err
	}
	o := store.Organization{ID: id, Code: code, Name: name, CreatedAt: s.now()}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.CreateOrganization(ctx, o); err != nil {
			return conflictOr(err, "the code")
		}
		return s.audit(ctx, tx, actor, AuditOrgCreated, id, "", map[string]string{"code": code})
	})
	if err != nil {
		return store.Organization{}, err
	}
	return o, nil
}

// ListOrganizations returns every organization, by code (operators).
func (s *Service) ListOrganizations(ctx context.Context, actor Actor) ([]store.Organization, error) {
	if err := operator(actor); err != nil {
		return nil, err
	}
	return s.d.Store.ListOrganizations(ctx)
}

// Update is a change of a code or a name; nil fields stay as they are.
type Update struct {
	Code *string
	Name *string
}

// UpdateOrganization changes an organization's code or name (operators).
func (s *Service) UpdateOrganization(ctx context.Context, actor Actor, id string, u Update) (store.Organization, error) {
	if err := operator(actor); err != nil {
		return store.Organization{}, err
	}
	code, name, err := checkUpdate(u)
	if err != nil {
		return store.Organization{}, err
	}
	var out store.Organization
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		var err error
		out, err = tx.UpdateOrganization(ctx, id, func(o *store.Organization) error {
			o.Code, o.Name = cmpOr(code, o.Code), cmpOr(name, o.Name)
			return nil
		})
		if err != nil {
			return notFound(conflictOr(err, "the code"), "organization")
		}
		return s.audit(ctx, tx, actor, AuditOrgUpdated, id, "", map[string]string{"code": out.Code, "name": out.Name})
	})
	return out, err
}

// DeleteOrganization deletes an organization with its memberships,
// entitlements, invitations and applications (operators); its history
// stays.
func (s *Service) DeleteOrganization(ctx context.Context, actor Actor, id string) error {
	if err := operator(actor); err != nil {
		return err
	}
	return s.d.Store.InTx(ctx, func(tx store.Durable) error {
		o, err := tx.GetOrganization(ctx, id)
		if err != nil {
			return notFound(err, "organization")
		}
		if err := tx.DeleteOrganization(ctx, id); err != nil {
			return notFound(err, "organization")
		}
		return s.audit(ctx, tx, actor, AuditOrgDeleted, id, "", map[string]string{"code": o.Code})
	})
}

// checkUpdate checks the fields an Update sets ("" = unchanged).
func checkUpdate(u Update) (code, name string, err error) {
	if u.Code == nil && u.Name == nil {
		return "", "", invalid("nothing to change")
	}
	if u.Code != nil {
		if code, err = checkCode(*u.Code); err != nil {
			return "", "", err
		}
	}
	if u.Name != nil {
		if name, err = checkName(*u.Name); err != nil {
			return "", "", err
		}
	}
	return code, name, nil
}

func cmpOr(v, old string) string {
	if v == "" {
		return old
	}
	return v
}

// CreateService registers a service (operators).
func (s *Service) CreateService(ctx context.Context, actor Actor, code, name string) (store.Service, error) {
	if err := operator(actor); err != nil {
		return store.Service{}, err
	}
	code, err := checkCode(code)
	if err != nil {
		return store.Service{}, err
	}
	if name, err = checkName(name); err != nil {
		return store.Service{}, err
	}
	id, err := s.newID()
	if err != nil {
		return store.Service{}, err
	}
	v := store.Service{ID: id, Code: code, Name: name, CreatedAt: s.now()}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.CreateService(ctx, v); err != nil {
			return conflictOr(err, "the code")
		}
		return s.audit(ctx, tx, actor, AuditServiceCreated, "", "", map[string]string{"service": id, "code": code})
	})
	if err != nil {
		return store.Service{}, err
	}
	return v, nil
}

// ListServices returns every service, by code (operators).
func (s *Service) ListServices(ctx context.Context, actor Actor) ([]store.Service, error) {
	if err := operator(actor); err != nil {
		return nil, err
	}
	return s.d.Store.ListServices(ctx)
}

// UpdateService changes a service's code or name (operators).
func (s *Service) UpdateService(ctx context.Context, actor Actor, id string, u Update) (store.Service, error) {
	if err := operator(actor); err != nil {
		return store.Service{}, err
	}
	code, name, err := checkUpdate(u)
	if err != nil {
		return store.Service{}, err
	}
	var out store.Service
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		var err error
		out, err = tx.UpdateService(ctx, id, func(v *store.Service) error {
			v.Code, v.Name = cmpOr(code, v.Code), cmpOr(name, v.Name)
			return nil
		})
		if err != nil {
			return notFound(conflictOr(err, "the code"), "service")
		}
		return s.audit(ctx, tx, actor, AuditServiceUpdated, "", "", map[string]string{"service": id, "code": out.Code, "name": out.Name})
	})
	return out, err
}

// DeleteService deletes a service with its entitlements, legacy login IDs
// and applications (operators).
func (s *Service) DeleteService(ctx context.Context, actor Actor, id string) error {
	if err := operator(actor); err != nil {
		return err
	}
	return s.d.Store.InTx(ctx, func(tx store.Durable) error {
		v, err := tx.GetService(ctx, id)
		if err != nil {
			return notFound(err, "service")
		}
		if err := tx.DeleteService(ctx, id); err != nil {
			return notFound(err, "service")
		}
		return s.audit(ctx, tx, actor, AuditServiceDeleted, "", "", map[string]string{"service": id, "code": v.Code})
	})
}

// Entitle lets an organization use a service (operators); entitling it
// again changes nothing.
func (s *Service) Entitle(ctx context.Context, actor Actor, orgID, serviceID string) error {
	if err := operator(actor); err != nil {
		return err
	}
	return s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.PutEntitlement(ctx, store.Entitlement{OrgID: orgID, ServiceID: serviceID, CreatedAt: s.now()}); err != nil {
			return notFound(err, "organization or service")
		}
		return s.audit(ctx, tx, actor, AuditEntitlementGranted, orgID, "", map[string]string{"service": serviceID})
	})
}

// Unentitle ends an organization's use of a service (operators): its
// members' tokens for the service stop at their next refresh.
func (s *Service) Unentitle(ctx context.Context, actor Actor, orgID, serviceID string) error {
	if err := operator(actor); err != nil {
		return err
	}
	return s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.DeleteEntitlement(ctx, orgID, serviceID); err != nil {
			return notFound(err, "entitlement")
		}
		return s.audit(ctx, tx, actor, AuditEntitlementRevoked, orgID, "", map[string]string{"service": serviceID})
	})
}

// Entitlements returns the services an organization may use, by code
// (its administrators and operators).
func (s *Service) Entitlements(ctx context.Context, actor Actor, orgID string) ([]store.Service, error) {
	if err := s.Authorize(ctx, actor, orgID, ActApplyService, ""); err != nil {
		return nil, err
	}
	es, err := s.d.Store.ListEntitlementsByOrg(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("orgs: entitlements: %w", err)
	}
	var out []store.Service
	for _, e := range es {
		v, err := s.d.Store.GetService(ctx, e.ServiceID)
		if err != nil {
			return nil, fmt.Errorf("orgs: service %s: %w", e.ServiceID, err)
		}
		out = append(out, v)
	}
	return out, nil
}
