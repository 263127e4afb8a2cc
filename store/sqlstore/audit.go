package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/customerhub/hubid/store"
)

// DefaultAuditLimit is the page size of ListAudit when the filter has none.
const DefaultAuditLimit = 50

const auditCols = `id, occurred_at, kind, actor_id, user_id, org_id, client_id, ip, user_agent, detail`

// AppendAudit appends an event and returns its ID (increasing, never
// reused). A zero Time is filled from the clock, an empty IP and
// UserAgent from ctx's request meta (store.WithRequestMeta); e.ID is
// ignored.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	e = e.FillRequestMeta(ctx)
	return writeRow(s, ctx, "append audit event", `INSERT INTO audit_events
		(occurred_at, kind, actor_id, user_id, org_id, client_id, ip, user_agent, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		func(r scanner) (int64, error) {
			var id int64
			err := r.Scan(&id)
			return id, err
		},
		micros(orNow(e.Time, s.Now())), e.Kind, e.ActorID, e.UserID, e.OrgID, e.ClientID, e.IP,
		e.UserAgent, jsonMap(e.Detail))
}

// ListAudit returns the events f selects, newest (highest ID) first: those
// of f.UserID and f.OrgID when set (with f.MemberKinds, also the
// organization-less events of those kinds of the organization's current
// members), involving f.Involving as subject or actor when set, by f.ActorID when set, of one of f.Kinds when set, with
// f.Since <= Time < f.Until when set, and ID < f.BeforeID when set; at most
// f.Limit (DefaultAuditLimit when 0).
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.UserID != "" {
		where = append(where, "user_id = "+arg(f.UserID))
	}
	switch {
	case f.OrgID != "" && len(f.MemberKinds) > 0:
		org := arg(f.OrgID)
		ph := make([]string, len(f.MemberKinds))
		for i, k := range f.MemberKinds {
			ph[i] = arg(k)
		}
		where = append(where, "(org_id = "+org+" OR (org_id = '' AND kind IN ("+strings.Join(ph, ", ")+
			") AND user_id IN (SELECT user_id FROM memberships WHERE org_id = "+org+")))")
	case f.OrgID != "":
		where = append(where, "org_id = "+arg(f.OrgID))
	}
	if f.Involving != "" {
		p := arg(f.Involving)
		where = append(where, "(user_id = "+p+" OR actor_id = "+p+")")
	}
	if f.ActorID != "" {
		where = append(where, "actor_id = "+arg(f.ActorID))
	}
	if len(f.Kinds) > 0 {
		ph := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			ph[i] = arg(k)
		}
		where = append(where, "kind IN ("+strings.Join(ph, ", ")+")")
	}
	if !f.Since.IsZero() {
		where = append(where, "occurred_at >= "+arg(micros(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "occurred_at < "+arg(micros(f.Until)))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	q := `SELECT ` + auditCols + ` FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(limit)
	return list(s, ctx, "list audit events", q, func(r scanner) (store.AuditEvent, error) {
		var e store.AuditEvent
		err := r.Scan(&e.ID, ts(&e.Time), &e.Kind, &e.ActorID, &e.UserID, &e.OrgID, &e.ClientID,
			&e.IP, &e.UserAgent, js(&e.Detail))
		return e, err
	}, args...)
}

// PurgeAudit deletes events with Time < before and returns how many.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge audit events", `DELETE FROM audit_events WHERE occurred_at < $1`, micros(before))
}
