package adminapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/customerhub/hubid/store"
)

func (a *API) listServices(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	all, err := a.cfg.Store.ListServices(r.Context())
	if err != nil {
		return err
	}
	code := r.URL.Query().Get("code")
	all = slices.DeleteFunc(all, func(s store.Service) bool { return code != "" && s.Code != code })
	slices.SortFunc(all, func(x, y store.Service) int { return strings.Compare(x.Code, y.Code) })
	writeJSON(w, http.StatusOK, paginate(all, p, func(s store.Service) string { return s.Code }, serviceView), "")
	return nil
}

func (a *API) getService(w http.ResponseWriter, r *http.Request) error {
	s, err := a.cfg.Store.GetService(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFound(err, "service")
	}
	v := serviceView(s)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// ServiceCreate is the body of POST /services.
type ServiceCreate struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (a *API) createService(w http.ResponseWriter, r *http.Request) error {
	var in ServiceCreate
	if err := a.decode(r, &in); err != nil {
		return err
	}
	var ps problems
	ps.code("code", in.Code)
	ps.name("name", in.Name)
	if err := ps.err(); err != nil {
		return err
	}
	id, err := a.newID()
	if err != nil {
		return err
	}
	s := store.Service{ID: id, Code: in.Code, Name: strings.TrimSpace(in.Name), CreatedAt: a.cfg.Now()}
	err = a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		*ev = store.AuditEvent{Kind: "admin.service.created", Detail: map[string]string{"service_id": id, "code": s.Code}}
		return exists(tx.CreateService(r.Context(), s), "a service with code "+in.Code+" exists")
	})
	if err != nil {
		return err
	}
	v := serviceView(s)
	w.Header().Set("Location", Prefix+"/services/"+id)
	writeJSON(w, http.StatusCreated, v, etagOf(v))
	return nil
}
