package adminapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/customerhub/hubid/store"
)

// searchAudit pages the usage history, newest first, filtered by
// user_id, org_id, kind (repeatable) and the time range since/until
// (RFC 3339).
func (a *API) searchAudit(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.AuditFilter{UserID: q.Get("user_id"), OrgID: q.Get("org_id"), Kinds: q["kind"], Limit: p.limit + 1}
	var ps problems
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if s := q.Get(t.name); s != "" {
			v, err := time.Parse(time.RFC3339, s)
			if err != nil {
				ps.add("%s: an RFC 3339 time such as 2026-01-31T09:00:00Z", t.name)
			}
			*t.dst = v
		}
	}
	if p.after != "" {
		id, err := strconv.ParseInt(p.after, 10, 64)
		if err != nil || id <= 0 {
			ps.add("cursor: not a cursor this API returned")
		}
		f.BeforeID = id
	}
	if err := ps.err(); err != nil {
		return err
	}
	evs, err := a.cfg.Store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	out := List[AuditEvent]{Items: []AuditEvent{}}
	for i, e := range evs {
		if i == p.limit {
			out.NextCursor = cursorFor(strconv.FormatInt(evs[i-1].ID, 10))
			break
		}
		out.Items = append(out.Items, auditView(e))
	}
	writeJSON(w, http.StatusOK, out, "")
	return nil
}
