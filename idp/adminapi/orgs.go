package adminapi

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// Organizations and services: the two resources with a code and a name,
// listed, created, renamed and deleted alike through the organizations
// service. coded holds what differs between them.
type coded[R, V any] struct {
	what, path string
	view       func(R) V
	id         func(R) string
	code, name func(R) string
	get        func(ctx context.Context, st Store, id string) (R, error)
	lock       func(tx store.Durable) func(context.Context, string, func(*R) error) (R, error)
	// The service's methods, as method expressions.
	list   func(svc *orgs.Service, ctx context.Context, actor orgs.Actor) ([]R, error)
	create func(svc *orgs.Service, ctx context.Context, actor orgs.Actor, code, name string) (R, error)
	update func(svc *orgs.Service, ctx context.Context, actor orgs.Actor, id string, u orgs.Update) (R, error)
	del    func(svc *orgs.Service, ctx context.Context, actor orgs.Actor, id string) error
}

var orgResource = coded[store.Organization, Organization]{
	what: "organization", path: "/organizations/", view: orgView,
	id:   func(o store.Organization) string { return o.ID },
	code: func(o store.Organization) string { return o.Code }, name: func(o store.Organization) string { return o.Name },
	get: func(ctx context.Context, st Store, id string) (store.Organization, error) {
		return st.GetOrganization(ctx, id)
	},
	lock: func(tx store.Durable) func(context.Context, string, func(*store.Organization) error) (store.Organization, error) {
		return tx.UpdateOrganization
	},
	list:   (*orgs.Service).ListOrganizations,
	create: (*orgs.Service).CreateOrganization,
	update: (*orgs.Service).UpdateOrganization,
	del:    (*orgs.Service).DeleteOrganization,
}

var serviceResource = coded[store.Service, Service]{
	what: "service", path: "/services/", view: serviceView,
	id:   func(s store.Service) string { return s.ID },
	code: func(s store.Service) string { return s.Code }, name: func(s store.Service) string { return s.Name },
	get: func(ctx context.Context, st Store, id string) (store.Service, error) { return st.GetService(ctx, id) },
	lock: func(tx store.Durable) func(context.Context, string, func(*store.Service) error) (store.Service, error) {
		return tx.UpdateService
	},
	list:   (*orgs.Service).ListServices,
	create: (*orgs.Service).CreateService,
	update: (*orgs.Service).UpdateService,
	del:    (*orgs.Service).DeleteService,
}

// listAll lists by code, filtered by ?code= (exact) and ?q= (text in the
// code or the name, any case).
func (c coded[R, V]) listAll(a *API, w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	all, err := c.list(a.cfg.Orgs, r.Context(), ActorOf(r.Context()))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	code, text := q.Get("code"), strings.ToLower(q.Get("q"))
	all = slices.DeleteFunc(all, func(x R) bool {
		return (code != "" && c.code(x) != code) ||
			(text != "" && !strings.Contains(strings.ToLower(c.code(x)), text) && !strings.Contains(strings.ToLower(c.name(x)), text))
	})
	writeJSON(w, http.StatusOK, paginate(all, p, c.code, c.view), "")
	return nil
}

func (c coded[R, V]) read(a *API, w http.ResponseWriter, r *http.Request) error {
	x, err := c.get(r.Context(), a.cfg.Store, r.PathValue("id"))
	if err != nil {
		return notFound(err, c.what)
	}
	v := c.view(x)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// CodeName is the body of POST /organizations and POST /services.
type CodeName struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (c coded[R, V]) createOne(a *API, w http.ResponseWriter, r *http.Request) error {
	var in CodeName
	if err := a.decode(r, &in); err != nil {
		return err
	}
	x, err := c.create(a.cfg.Orgs, r.Context(), ActorOf(r.Context()), in.Code, in.Name)
	if err != nil {
		return err
	}
	v := c.view(x)
	w.Header().Set("Location", Prefix+c.path+c.id(x))
	writeJSON(w, http.StatusCreated, v, etagOf(v))
	return nil
}

// CodeNamePatch is the body of PATCH /organizations/{id} and
// PATCH /services/{id}: the fields to change.
type CodeNamePatch struct {
	Code *string `json:"code,omitempty"`
	Name *string `json:"name,omitempty"`
}

// guardRow locks the resource's row and checks If-Match against it.
func (c coded[R, V]) guardRow(r *http.Request, tx store.Durable, id string) error {
	_, err := c.lock(tx)(r.Context(), id, func(x *R) error { return requireMatch(r, c.view(*x)) })
	return notFound(err, c.what)
}

func (c coded[R, V]) patch(a *API, w http.ResponseWriter, r *http.Request) error {
	var in CodeNamePatch
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx, id := r.Context(), r.PathValue("id")
	var out R
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if err := c.guardRow(r, tx, id); err != nil {
			return err
		}
		var err error
		out, err = c.update(svc, ctx, ActorOf(ctx), id, orgs.Update{Code: in.Code, Name: in.Name})
		return err
	})
	if err != nil {
		return err
	}
	v := c.view(out)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

func (c coded[R, V]) remove(a *API, w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if err := c.guardRow(r, tx, id); err != nil {
			return err
		}
		return c.del(svc, ctx, ActorOf(ctx), id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// mount registers the resource's routes: the collection (list, create)
// and the item (read, patch, delete).
func (c coded[R, V]) mount(a *API) {
	bind := func(f func(coded[R, V], *API, http.ResponseWriter, *http.Request) error) handler {
		return func(w http.ResponseWriter, r *http.Request) error { return f(c, a, w, r) }
	}
	all, one := Prefix+strings.TrimSuffix(c.path, "/"), Prefix+c.path+"{id}"
	a.handle("GET "+all, bind(coded[R, V].listAll))
	a.handle("POST "+all, bind(coded[R, V].createOne))
	a.handle("GET "+one, bind(coded[R, V].read))
	a.handle("PATCH "+one, bind(coded[R, V].patch))
	a.handle("DELETE "+one, bind(coded[R, V].remove))
}
