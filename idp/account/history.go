package account

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/store"
)

// PageSize is how many events a history page shows.
const PageSize = 25

// KindGroup is one choice of the history's "kind" filter.
type KindGroup struct {
	Value string   // the query value
	Key   string   // message key of its label
	Kinds []string // the audit kinds it selects
}

// KindGroups are the history filter's groups; "all" (no filter) shows
// every event, including kinds not listed here. Code that writes a new
// kind of event a person should find by kind adds it to a group and a
// "history.kind.<kind>" message to Messages (a test checks both).
var KindGroups = []KindGroup{
	{"signin", "history.group.signin", []string{"signin.success", "signin.sso", "signin.failure", "signin.denied", "signin.mfa.failure",
		"legacy.signin.success", "legacy.signin.failure"}},
	{"account", "history.group.account", []string{KindPasswordChanged, KindPasswordChangeFailed,
		"password.reset.requested", "password.reset", KindEmailChangeRequested, KindEmailChangeFailed,
		"email.verification.sent", "email.verified", "email.changed", KindProfileUpdated}},
	{"mfa", "history.group.mfa", []string{"mfa.setup.started", "mfa.setup.verified",
		"mfa.enabled", "mfa.disabled", "mfa.cleared", "mfa.reset", "mfa.recovery.regenerated", "mfa.recovery.used",
		"mfa.code.failed", "mfa.setup.skipped", KindMFAPasswordFailed, "org.mfa.required", "org.mfa.optional"}},
	{"sessions", "history.group.sessions", []string{KindSessionEnded, KindSessionsEnded, "signout.hub", "signout.service",
		"signout.backchannel", KindConsentRevoked, "consent.granted", "consent.denied", "token.refresh.started", "token.refresh.revoked"}},
}

type groupOption struct {
	Value, Key string
	Selected   bool
}

// HistoryRow is one event as a usage history table shows it (the
// organization console's history shows the same columns and more).
type HistoryRow struct {
	Time, ISO, Event, Service, IP, Browser string
}

// RowOf renders e for a history table in p's language: event is the
// event's translated name, service the name of its client ("" = none).
func RowOf(p *i18n.Printer, e store.AuditEvent, event, service string) HistoryRow {
	row := HistoryRow{Time: formatTime(p, e.Time), ISO: isoTime(e.Time), IP: e.IP, Event: event, Service: service}
	if e.UserAgent != "" {
		row.Browser = deviceName(p, e.UserAgent)
	}
	return row
}

// EventName translates an event kind with the first of the message
// prefixes (e.g. "history.kind.") that has it; a kind without a message is
// shown as "Other event (kind)".
func EventName(b *i18n.Bundle, p *i18n.Printer, kind string, prefixes ...string) string {
	for _, pre := range append(prefixes, "history.kind.") {
		if k := pre + kind; b.Has(k) {
			return p.T(k)
		}
	}
	return p.T("history.kind.other", kind)
}

// ParseDate parses a date filter (<input type="date">) as a UTC day; ""
// is no bound, ok is false for anything else that is not a date.
func ParseDate(s string) (t time.Time, ok bool) { return parseDate(s) }

type historyData struct {
	page
	Groups              []groupOption
	From, To            string // the date filters as typed (YYYY-MM-DD)
	Error               string // message key
	Filtered, Paged     bool
	Rows                []HistoryRow
	OlderURL, NewestURL string
}

// dateLayout is the wire form of <input type="date">.
const dateLayout = "2006-01-02"

// parseDate parses a date filter as a UTC day; "" is no bound.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}, false
	}
	return t, true
}

// history lists the viewer's own events, newest first, PageSize at a
// time, with an "older" link that carries the last ID shown (keyset
// paging: new events never shift a page). The user filter is always the
// viewer: no parameter can widen it.
func (h *Handler) history(w http.ResponseWriter, r *http.Request, v hub.Viewer) {
	if v.User.ID == "" {
		h.d.Renderer.Error(w, r, v.P, apperr.New(apperr.Internal, "history without a user"), "")
		return
	}
	q := r.URL.Query()
	d := historyData{page: page{Nav: nav("/account/history")}, From: q.Get("from"), To: q.Get("to")}
	f := store.AuditFilter{UserID: v.User.ID, Limit: PageSize + 1}
	kind := ""
	d.Groups = append(d.Groups, groupOption{Value: "", Key: "history.group.all"})
	for _, g := range KindGroups {
		sel := g.Value == q.Get("kind")
		if sel {
			kind, f.Kinds = g.Value, g.Kinds
		}
		d.Groups = append(d.Groups, groupOption{Value: g.Value, Key: g.Key, Selected: sel})
	}
	if kind == "" {
		d.Groups[0].Selected = true
	}
	since, okFrom := parseDate(d.From)
	until, okTo := parseDate(d.To)
	switch {
	case !okFrom || !okTo:
		d.Error = "history.date.invalid"
	case !since.IsZero() && !until.IsZero() && until.Before(since):
		d.Error = "history.date.order"
	}
	if d.Error != "" {
		h.d.Renderer.Render(w, r, http.StatusUnprocessableEntity, "account_history", v.P, "history.title", d)
		return
	}
	f.Since = since
	if !until.IsZero() {
		f.Until = until.AddDate(0, 0, 1) // "to" includes that whole day
	}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.BeforeID, d.Paged = b, true
	}
	d.Filtered = kind != "" || d.From != "" || d.To != ""
	events, err := h.d.Store.ListAudit(r.Context(), f)
	if err != nil {
		h.d.Renderer.Error(w, r, v.P, err, "")
		return
	}
	filter := url.Values{}
	for k, val := range map[string]string{"kind": kind, "from": d.From, "to": d.To} {
		if val != "" {
			filter.Set(k, val)
		}
	}
	if len(events) > PageSize {
		events = events[:PageSize]
		older := url.Values{"before": {strconv.FormatInt(events[PageSize-1].ID, 10)}}
		for k, vs := range filter {
			older[k] = vs
		}
		d.OlderURL = "/account/history?" + older.Encode()
	}
	if d.Paged {
		d.NewestURL = "/account/history"
		if len(filter) > 0 {
			d.NewestURL += "?" + filter.Encode()
		}
	}
	names := &clientNames{st: h.d.Store, ctx: r.Context()}
	for _, e := range events {
		if e.UserID != v.User.ID {
			continue // the store filters already; never show anyone else's
		}
		service := e.ClientID
		if c, ok := names.get(e.ClientID); ok {
			service = c.Name
		}
		if service == "" && (strings.HasPrefix(e.Kind, "signin.") || e.Kind == "signout.hub") {
			service = v.P.T("app.name") // signed in to or out of the hub itself
		}
		d.Rows = append(d.Rows, RowOf(v.P, e, h.kindName(v, e.Kind), service))
	}
	h.d.Renderer.Render(w, r, http.StatusOK, "account_history", v.P, "history.title", d)
}

// kindName translates an event kind; a kind without a message is shown
// as "Other event (kind)".
func (h *Handler) kindName(v hub.Viewer, kind string) string {
	return EventName(h.d.Renderer.Bundle, v.P, kind)
}
