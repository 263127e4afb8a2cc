package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/account"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// kindGroups are the organization history's "kind" filter; "" shows
// every event.
var kindGroups = []account.KindGroup{
	{Value: "signin", Key: "console.history.group.signin", Kinds: orgs.MemberEventKinds},
	{Value: "members", Key: "console.history.group.members", Kinds: []string{orgs.AuditMemberAdded,
		orgs.AuditMemberRoleChanged, orgs.AuditMemberRemoved, orgs.AuditInvitationCreated, orgs.AuditInvitationResent,
		orgs.AuditInvitationCancelled, orgs.AuditInvitationAccepted}},
	{Value: "applications", Key: "console.history.group.applications", Kinds: []string{orgs.AuditApplicationCreated,
		orgs.AuditApplicationApproved, orgs.AuditApplicationRejected}},
	{Value: "mfa", Key: "console.history.group.mfa", Kinds: []string{mfa.KindReset, mfa.KindOrgRequired, mfa.KindOrgOptional}},
	{Value: "legacy", Key: "console.history.group.legacy", Kinds: []string{legacy.AuditLinked, legacy.AuditUnlinked}},
}

type groupOption struct {
	Value, Key string
	Selected   bool
}

type historyRow struct {
	account.HistoryRow
	Actor, Subject string
}

type historyData struct {
	Groups              []groupOption
	From, To, Person    string
	Filtered, Paged     bool
	Rows                []historyRow
	OlderURL, NewestURL string
}

// history shows the organization's usage history (orgs.History: its
// administrative events and its members' sign-ins), filtered by kind,
// dates and person, paged by event ID; the rows are rendered as the
// person's own history renders them (account.RowOf), with who acted and
// on whom.
func (h *Handler) history(w http.ResponseWriter, r *http.Request, q req) {
	ctx := r.Context()
	qv := r.URL.Query()
	d := historyData{From: qv.Get("from"), To: qv.Get("to"), Person: strings.TrimSpace(qv.Get("person"))}
	var hq orgs.HistoryQuery
	d.Groups = append(d.Groups, groupOption{Value: "", Key: "history.group.all", Selected: true})
	filter := url.Values{}
	for _, g := range kindGroups {
		if g.Value == qv.Get("kind") {
			hq.Kinds = g.Kinds
			d.Groups[0].Selected = false
			filter.Set("kind", g.Value)
		}
		d.Groups = append(d.Groups, groupOption{Value: g.Value, Key: g.Key, Selected: g.Value == qv.Get("kind")})
	}
	errKey := ""
	since, okFrom := account.ParseDate(d.From)
	until, okTo := account.ParseDate(d.To)
	if !okFrom || !okTo || (!since.IsZero() && !until.IsZero() && until.Before(since)) {
		errKey = "history.date.invalid"
	}
	hq.Since = since
	if !until.IsZero() {
		hq.Until = until.AddDate(0, 0, 1)
	}
	if d.Person != "" {
		u, err := h.d.Store.GetUserByEmail(ctx, d.Person)
		switch {
		case errors.Is(err, store.ErrNotFound):
			hq.Person = "-" // nobody: no rows
		case err != nil:
			h.d.Renderer.Error(w, r, q.v.P, err, "")
			return
		default:
			hq.Person = u.ID
		}
	}
	for k, v := range map[string]string{"from": d.From, "to": d.To, "person": d.Person} {
		if v != "" {
			filter.Set(k, v)
		}
	}
	d.Filtered = len(filter) > 0
	if b, err := strconv.ParseInt(qv.Get("before"), 10, 64); err == nil && b > 0 {
		hq.Before, d.Paged = b, true
	}
	if errKey != "" {
		h.show(w, r, q, http.StatusUnprocessableEntity, "history", d, errKey)
		return
	}
	page, err := h.d.Orgs.History(ctx, q.actor(), q.org.ID, hq)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			h.show(w, r, q, http.StatusUnprocessableEntity, "history", d, "history.date.invalid")
			return
		}
		h.d.Renderer.Error(w, r, q.v.P, err, "")
		return
	}
	base := "/console/" + url.PathEscape(q.org.Code) + "/history"
	if page.Next != 0 {
		older := url.Values{"before": {strconv.FormatInt(page.Next, 10)}}
		for k, vs := range filter {
			older[k] = vs
		}
		d.OlderURL = base + "?" + older.Encode()
	}
	if d.Paged {
		d.NewestURL = base
		if len(filter) > 0 {
			d.NewestURL += "?" + filter.Encode()
		}
	}
	names := &names{h: h, r: r, p: q.v.P, cache: map[string]string{}}
	for _, e := range page.Events {
		if e.OrgID != "" && e.OrgID != q.org.ID {
			continue // the service filters already; never show another organization's
		}
		event := account.EventName(h.d.Renderer.Bundle, q.v.P, e.Kind, "console.kind.")
		row := historyRow{HistoryRow: account.RowOf(q.v.P, e, event, names.client(e.ClientID)),
			Actor: names.person(e.ActorID), Subject: names.person(e.UserID)}
		if row.Subject == "" && e.Detail["email"] != "" {
			row.Subject = e.Detail["email"]
		}
		d.Rows = append(d.Rows, row)
	}
	h.show(w, r, q, http.StatusOK, "history", d, "")
}

// names resolves the people and clients of a history page once each.
type names struct {
	h     *Handler
	r     *http.Request
	p     *i18n.Printer
	cache map[string]string
}

func (n *names) person(id string) string {
	switch {
	case id == "":
		return ""
	case strings.HasPrefix(id, "operator:"):
		return n.p.T("console.history.operator")
	}
	if v, ok := n.cache["u:"+id]; ok {
		return v
	}
	v := id
	if u, err := n.h.d.Store.GetUser(n.r.Context(), id); err == nil {
		v = u.Email
	}
	n.cache["u:"+id] = v
	return v
}

func (n *names) client(id string) string {
	if id == "" {
		return ""
	}
	if v, ok := n.cache["c:"+id]; ok {
		return v
	}
	v := id
	if c, err := n.h.d.Store.GetClient(n.r.Context(), id); err == nil && c.Name != "" {
		v = c.Name
	}
	n.cache["c:"+id] = v
	return v
}
