package orgs

import (
	"context"
	"fmt"
	"time"

	"github.com/customerhub/hubid/store"
)

// MemberEventKinds are the events of a member's own that an
// organization's history shows beside its administrative events: their
// sign-ins and their two-step verification (setup, activation, failed
// codes, recovery codes used, turning off, removal by a password reset or
// an operator), which belong to no organization. The kinds are package
// mfa's (mfa.Kind*), written out to keep orgs apart from mfa.
var MemberEventKinds = []string{"signin.success", "signin.failure", "signin.denied", "signin.mfa.failure",
	"mfa.setup.started", "mfa.setup.verified", "mfa.enabled", "mfa.disabled", "mfa.reset", "mfa.cleared",
	"mfa.code.failed", "mfa.recovery.used", "mfa.recovery.regenerated"}

// HistoryQuery selects a page of an organization's usage history.
type HistoryQuery struct {
	Kinds  []string  // "" = every kind
	Since  time.Time // inclusive; zero = no bound
	Until  time.Time // exclusive; zero = no bound
	Person string    // a user ID: events about them or by them; "" = everyone
	Before int64     // HistoryPage.Next of the previous page; 0 = the newest
	Limit  int       // 0 = DefaultPageSize; at most MaxPageSize
}

// HistoryPage is one page of history, newest first.
type HistoryPage struct {
	Events []store.AuditEvent
	Next   int64 // Before of the next page; 0 on the last
}

// History returns an organization's usage history: every administrative
// action in it (with who did it) and its current members' sign-ins,
// newest first (administrators of the organization and operators).
func (s *Service) History(ctx context.Context, actor Actor, orgID string, q HistoryQuery) (HistoryPage, error) {
	if err := s.Authorize(ctx, actor, orgID, ActManageMembers, ""); err != nil {
		return HistoryPage{}, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return HistoryPage{}, invalid("the start of the period must be before its end")
	}
	if q.Before < 0 {
		return HistoryPage{}, invalid("the page cursor is not valid")
	}
	n := pageSize(q.Limit)
	evs, err := s.d.Store.ListAudit(ctx, store.AuditFilter{OrgID: orgID, MemberKinds: MemberEventKinds,
		Kinds: q.Kinds, Since: q.Since, Until: q.Until, Involving: q.Person, BeforeID: q.Before, Limit: n + 1})
	if err != nil {
		return HistoryPage{}, fmt.Errorf("orgs: history: %w", err)
	}
	var p HistoryPage
	if len(evs) > n {
		evs = evs[:n]
		p.Next = evs[n-1].ID
	}
	p.Events = evs
	return p, nil
}
