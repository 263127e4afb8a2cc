package adminapi

import (
	"net/http"
	"strings"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// People, through the organizations service.

// listUsers pages every account by email; ?q= searches names and emails,
// ?email= finds one address (exact, any case).
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	if email := q.Get("email"); email != "" {
		if q.Get("q") != "" || p.after != "" {
			return errInvalid("email finds one account: send it without q and cursor")
		}
		out := []User{}
		if !strings.Contains(email, "@") {
			return errInvalid("email: an email address")
		}
		d, err := a.cfg.Orgs.FindUser(ctx, ActorOf(ctx), email)
		if err == nil {
			out = append(out, accountUser(d.Account))
		} else if !isNotFound(err) {
			return err
		}
		writeJSON(w, http.StatusOK, List[User]{Items: out}, "")
		return nil
	}
	pg, err := a.cfg.Orgs.ListUsers(ctx, ActorOf(ctx), orgs.UserQuery{Search: q.Get("q"), Cursor: p.after, Limit: p.limit})
	if err != nil {
		return err
	}
	out := make([]User, 0, len(pg.Users))
	for _, u := range pg.Users {
		out = append(out, accountUser(u))
	}
	writeJSON(w, http.StatusOK, servicePage(out, pg.Next), "")
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.cfg.Store.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFound(err, "user")
	}
	v := userView(u)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// UserCreate is the body of POST /users: an account without a password
// (the person sets one through "forgot password", or is invited).
type UserCreate struct {
	Email         string `json:"email"`
	Name          string `json:"name"`
	EmailVerified bool   `json:"email_verified,omitempty"`
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var in UserCreate
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	acc, err := a.cfg.Orgs.CreateUser(ctx, ActorOf(ctx), in.Email, in.Name, in.EmailVerified)
	if err != nil {
		return err
	}
	u, err := a.cfg.Store.GetUser(ctx, acc.ID)
	if err != nil {
		return err
	}
	v := userView(u)
	w.Header().Set("Location", Prefix+"/users/"+u.ID)
	writeJSON(w, http.StatusCreated, v, etagOf(v))
	return nil
}

// UserPatch is the body of PATCH /users/{id}: the fields to change.
type UserPatch struct {
	Name     *string `json:"name,omitempty"`
	Locale   *string `json:"locale,omitempty"` // "", "en" or "ja"
	Disabled *bool   `json:"disabled,omitempty"`
}

// guardUser locks the person's row and checks If-Match against it.
func guardUser(r *http.Request, tx store.Durable, id string) error {
	_, err := tx.UpdateUser(r.Context(), id, func(u *store.User) error { return requireMatch(r, userView(*u)) })
	return notFound(err, "user")
}

// patchUser changes a person's name, language or disabled flag. Of two
// writers holding the same version exactly one wins.
func (a *API) patchUser(w http.ResponseWriter, r *http.Request) error {
	var in UserPatch
	if err := a.decode(r, &in); err != nil {
		return err
	}
	ctx, id := r.Context(), r.PathValue("id")
	var out store.User
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if err := guardUser(r, tx, id); err != nil {
			return err
		}
		if _, err := svc.UpdateUser(ctx, ActorOf(ctx), id, orgs.UserUpdate{Name: in.Name, Disabled: in.Disabled, Locale: in.Locale}); err != nil {
			return err
		}
		var err error
		out, err = tx.GetUser(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	v := userView(out)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

// deleteUser deletes an account; refused (409 last_administrator, nothing
// changes) when it is an organization's last administrator.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	err := a.inTx(r, func(tx store.Durable, svc *orgs.Service) error {
		if err := guardUser(r, tx, id); err != nil {
			return err
		}
		return svc.DeleteUser(ctx, ActorOf(ctx), id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
