package adminapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// auditPage is one page of events and the ID the next one starts below
// (0: the last page).
type auditPage struct {
	events []store.AuditEvent
	next   int64
}

// auditQuery is what the audit search and an organization's history
// share: kind (repeatable), the time range since/until (RFC 3339; since
// inclusive, until exclusive) and the page (limit, and a cursor holding
// an event ID: newer events come first).
type auditQuery struct {
	kinds        []string
	since, until time.Time
	before       int64
	limit        int
}

// listEvents reads the query, lets fetch select a page and renders it.
func listEvents(w http.ResponseWriter, r *http.Request, fetch func(q auditQuery) (auditPage, error)) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := auditQuery{kinds: r.URL.Query()["kind"], limit: p.limit}
	var ps problems
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.since}, {"until", &q.until}} {
		if s := r.URL.Query().Get(t.name); s != "" {
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
		q.before = id
	}
	if err := ps.err(); err != nil {
		return err
	}
	pg, err := fetch(q)
	if err != nil {
		return err
	}
	out := List[AuditEvent]{Items: []AuditEvent{}}
	for _, e := range pg.events {
		out.Items = append(out.Items, auditView(e))
	}
	if pg.next != 0 {
		out.NextCursor = cursorFor(strconv.FormatInt(pg.next, 10))
	}
	writeJSON(w, http.StatusOK, out, "")
	return nil
}

// searchAudit pages the usage history, newest first, filtered by actor
// (who did it: a person's ID, operator:cli, operator:admin-token,
// operator:client:ID), user_id (whom it is about), org_id, kind
// (repeatable) and the time range since/until.
func (a *API) searchAudit(w http.ResponseWriter, r *http.Request) error {
	return listEvents(w, r, func(q auditQuery) (auditPage, error) {
		v := r.URL.Query()
		evs, err := a.cfg.Store.ListAudit(r.Context(), store.AuditFilter{ActorID: v.Get("actor"), UserID: v.Get("user_id"),
			OrgID: v.Get("org_id"), Kinds: q.kinds, Since: q.since, Until: q.until, BeforeID: q.before, Limit: q.limit + 1})
		if err != nil || len(evs) <= q.limit {
			return auditPage{events: evs}, err
		}
		return auditPage{events: evs[:q.limit], next: evs[q.limit-1].ID}, nil
	})
}

// orgHistory is an organization's usage history as its console shows it:
// every administrative action in it and its members' sign-ins, newest
// first (filters: person, kind, since, until).
func (a *API) orgHistory(w http.ResponseWriter, r *http.Request) error {
	ctx, orgID := r.Context(), r.PathValue("id")
	if _, err := a.cfg.Store.GetOrganization(ctx, orgID); err != nil {
		return notFound(err, "organization")
	}
	return listEvents(w, r, func(q auditQuery) (auditPage, error) {
		h, err := a.cfg.Orgs.History(ctx, ActorOf(ctx), orgID, orgs.HistoryQuery{Kinds: q.kinds, Since: q.since, Until: q.until,
			Person: r.URL.Query().Get("person"), Before: q.before, Limit: q.limit})
		return auditPage{events: h.Events, next: h.Next}, err
	})
}
