package adminapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// maxNameLen is the longest person's name, in characters (as on the
// account page).
const maxNameLen = 100

// listUsers finds people by email (?email=, exact after case folding) or
// by organization (?org_id=, its members): the store keeps no global
// listing of people, so one of the two filters is required.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	email, orgID := q.Get("email"), q.Get("org_id")
	var users []store.User
	switch {
	case email != "" && orgID != "":
		return errInvalid("filter by email or by org_id, not both")
	case email != "":
		u, err := a.cfg.Store.GetUserByEmail(ctx, email)
		if err != nil && apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		if err == nil {
			users = append(users, u)
		}
	case orgID != "":
		if _, err := a.cfg.Store.GetOrganization(ctx, orgID); err != nil {
			return notFound(err, "organization")
		}
		ms, err := a.cfg.Store.ListMembershipsByOrg(ctx, orgID)
		if err != nil {
			return err
		}
		slices.SortFunc(ms, func(x, y store.Membership) int { return strings.Compare(x.UserID, y.UserID) })
		// Only the page's people are read.
		for _, m := range ms {
			if p.after != "" && m.UserID <= p.after {
				continue
			}
			if len(users) > p.limit {
				break
			}
			u, err := a.cfg.Store.GetUser(ctx, m.UserID)
			if err != nil && apperr.CodeOf(err) != apperr.NotFound {
				return err
			}
			if err == nil {
				users = append(users, u)
			}
		}
	default:
		return errInvalid("filter by email or by org_id")
	}
	writeJSON(w, http.StatusOK, paginate(users, p, func(u store.User) string { return u.ID }, userView), "")
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

// UserPatch is the body of PATCH /users/{id}: the fields to change.
type UserPatch struct {
	Name     *string `json:"name,omitempty"`
	Locale   *string `json:"locale,omitempty"` // "", "en" or "ja"
	Disabled *bool   `json:"disabled,omitempty"`
}

func (in UserPatch) check() error {
	var ps problems
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		ps.name("name", n)
		if utf8.RuneCountInString(n) > maxNameLen {
			ps.add("name: at most %d characters", maxNameLen)
		}
		*in.Name = n
	}
	if in.Locale != nil && !slices.Contains([]string{"", "en", "ja"}, *in.Locale) {
		ps.add(`locale: one of "", "en", "ja"`)
	}
	if in.Name == nil && in.Locale == nil && in.Disabled == nil {
		ps.add("nothing to change: send name, locale or disabled")
	}
	return ps.err()
}

// patchUser changes a person's name, language or disabled flag. The
// If-Match check runs inside the store's update transaction, so of two
// writers holding the same version exactly one wins.
func (a *API) patchUser(w http.ResponseWriter, r *http.Request) error {
	var in UserPatch
	if err := a.decode(r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	ctx := r.Context()
	var out store.User
	err := a.write(r, func(tx store.Durable, ev *store.AuditEvent) error {
		var changed []string
		u, err := tx.UpdateUser(ctx, r.PathValue("id"), func(u *store.User) error {
			if err := requireMatch(r, userView(*u)); err != nil {
				return err
			}
			if in.Name != nil && *in.Name != u.Name {
				u.Name, changed = *in.Name, append(changed, "name")
			}
			if in.Locale != nil && *in.Locale != u.Locale {
				u.Locale, changed = *in.Locale, append(changed, "locale")
			}
			if in.Disabled != nil && *in.Disabled != u.Disabled {
				u.Disabled, changed = *in.Disabled, append(changed, "disabled")
			}
			if len(changed) == 0 {
				return errUnchanged
			}
			u.UpdatedAt = a.cfg.Now()
			return nil
		})
		if err != nil {
			return notFound(err, "user")
		}
		out = u
		*ev = store.AuditEvent{Kind: "admin.user.updated", UserID: u.ID, Detail: map[string]string{"fields": strings.Join(changed, ",")}}
		if in.Disabled != nil && *in.Disabled && slices.Contains(changed, "disabled") {
			ev.Kind = "admin.user.disabled"
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		u, err := a.cfg.Store.GetUser(ctx, r.PathValue("id"))
		if err != nil {
			return notFound(err, "user")
		}
		out = u
	} else if err != nil {
		return err
	}
	v := userView(out)
	writeJSON(w, http.StatusOK, v, etagOf(v))
	return nil
}

func (a *API) listUserMemberships(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.cfg.Store.GetUser(r.Context(), id); err != nil {
		return notFound(err, "user")
	}
	ms, err := a.cfg.Store.ListMembershipsByUser(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paginate(ms, p, func(m store.Membership) string { return m.OrgID }, membershipView), "")
	return nil
}
