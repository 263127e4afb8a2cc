package account

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

var (
	rowTimeRe = regexp.MustCompile(`<td role="cell"><time datetime="([^"]+)">`)
	olderRe   = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
)

// seedKinds cycle through the seeded events: every group, plus a kind no
// group lists.
var seedKinds = []string{"signin.success", "signin.failure", KindPasswordChanged, "mfa.enabled", KindSessionEnded, "custom.thing"}

// seedHistory appends 60 events for u, 11 hours apart from 1 Feb 2026,
// and 20 for stranger in between; it returns u's events oldest first.
func seedHistory(t *testing.T, e *env, u, stranger store.User) []store.AuditEvent {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var mine []store.AuditEvent
	for i := range 60 {
		ev := store.AuditEvent{Time: start.Add(time.Duration(i) * 11 * time.Hour), Kind: seedKinds[i%len(seedKinds)],
			ActorID: u.ID, UserID: u.ID, IP: "198.51.100.1", UserAgent: uaChromeWindows}
		if i%2 == 0 {
			ev.ClientID = "ships"
		}
		id, err := e.db.AppendAudit(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		ev.ID = id
		mine = append(mine, ev)
		if i%3 == 0 {
			if _, err := e.db.AppendAudit(ctx, store.AuditEvent{Time: ev.Time, Kind: "signin.success",
				ActorID: stranger.ID, UserID: stranger.ID, IP: "192.0.2.99", UserAgent: uaFirefoxLinux}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return mine
}

// walk follows the "older" links from target and returns the event times
// of every page, in order, and the number of pages.
func walk(t *testing.T, b *browser, target string) (times []string, pages []string) {
	t.Helper()
	for target != "" {
		page := b.page(target)
		pages = append(pages, page)
		rows := rowTimeRe.FindAllStringSubmatch(page, -1)
		if len(rows) > PageSize {
			t.Fatalf("%s: %d rows", target, len(rows))
		}
		for _, m := range rows {
			times = append(times, m[1])
		}
		target = ""
		if m := olderRe.FindStringSubmatch(page); m != nil {
			target = html.UnescapeString(m[1])
		}
		if len(pages) > 10 {
			t.Fatal("paging does not end")
		}
	}
	return times, pages
}

// newestFirst returns the RFC 3339 times of the events keep selects,
// newest first.
func newestFirst(evs []store.AuditEvent, keep func(store.AuditEvent) bool) []string {
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		if keep(evs[i]) {
			out = append(out, evs[i].Time.UTC().Format(time.RFC3339))
		}
	}
	return out
}

func TestHistoryPagesNewestFirst(t *testing.T) {
	e := newEnv(t)
	e.addClient("ships", "NK-SHIPS", "")
	u := e.addUser("aiko@example.com", "Aiko", "")
	stranger := e.addUser("ken@example.com", "Ken", "")
	mine := seedHistory(t, e, u, stranger)
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")

	times, pages := walk(t, b, "/account/history")
	if want := newestFirst(mine, func(store.AuditEvent) bool { return true }); !slices.Equal(times, want) {
		t.Fatalf("times:\n%v\nwant:\n%v", times, want)
	}
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3 (25 + 25 + 10)", len(pages))
	}
	first, last := pages[0], pages[2]
	contains(t, first, "28 Feb 2026, 01:00 UTC", "Signed in", "Sign-in failed", "Password changed",
		"Two-step verification turned on", "Signed out", "Other event (custom.thing)",
		"NK-SHIPS", "198.51.100.1", "Chrome on Windows", `<th scope="col" role="columnheader">Time (UTC)</th>`)
	lacks(t, first, "Newest events")
	contains(t, last, `href="/account/history">Newest events`)
	for _, p := range pages {
		lacks(t, p, "192.0.2.99", "Firefox")
	}
}

func TestHistoryFilters(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	stranger := e.addUser("ken@example.com", "Ken", "")
	mine := seedHistory(t, e, u, stranger)
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	in := func(kinds ...string) func(store.AuditEvent) bool {
		return func(ev store.AuditEvent) bool { return slices.Contains(kinds, ev.Kind) }
	}
	day := func(s string) time.Time { d, _ := time.Parse(dateLayout, s); return d }
	between := func(from, to string) func(store.AuditEvent) bool {
		return func(ev store.AuditEvent) bool {
			return !ev.Time.Before(day(from)) && ev.Time.Before(day(to).AddDate(0, 0, 1))
		}
	}
	for _, c := range []struct {
		name, query string
		keep        func(store.AuditEvent) bool
	}{
		{"sign-ins", "kind=signin", in("signin.success", "signin.failure")},
		{"password and email", "kind=account", in(KindPasswordChanged)},
		{"mfa", "kind=mfa", in("mfa.enabled")},
		{"sessions", "kind=sessions", in(KindSessionEnded)},
		{"unknown group is all", "kind=nonsense", func(store.AuditEvent) bool { return true }},
		{"dates", "from=2026-02-10&to=2026-02-12", between("2026-02-10", "2026-02-12")},
		{"from only", "from=2026-02-05", between("2026-02-05", "2026-12-31")},
		{"one day, sign-ins", "kind=signin&from=2026-02-03&to=2026-02-03",
			func(ev store.AuditEvent) bool {
				return in("signin.success", "signin.failure")(ev) && between("2026-02-03", "2026-02-03")(ev)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			times, pages := walk(t, b, "/account/history?"+c.query)
			want := newestFirst(mine, c.keep)
			if len(want) == 0 {
				t.Fatal("bad test: the filter selects nothing")
			}
			if !slices.Equal(times, want) {
				t.Fatalf("times:\n%v\nwant:\n%v", times, want)
			}
			if wantPages := (len(want) + PageSize - 1) / PageSize; len(pages) != wantPages {
				t.Fatalf("%d pages, want %d", len(pages), wantPages)
			}
		})
	}
	// Paging keeps the filters.
	times, pages := walk(t, b, "/account/history?from=2026-02-05")
	if len(pages) != 3 || !strings.Contains(pages[2], "from=2026-02-05") || !strings.Contains(pages[2], "Newest events") {
		t.Fatalf("the second page lost the filter (%d pages, %d events)", len(pages), len(times))
	}
	contains(t, b.page("/account/history?kind=mfa"), `<option value="mfa" selected>`)
	contains(t, b.page("/account/history?kind=mfa&to=2026-01-01"), "No events match.")
}

func TestHistoryRefusesBadDates(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	b := e.signIn(u, uaChromeWindows, "198.51.100.1")
	wantStatus(t, b.get("/account/history?from=yesterday"), http.StatusUnprocessableEntity, "Enter dates as YYYY-MM-DD.", `value="yesterday"`)
	wantStatus(t, b.get("/account/history?from=2026-03-02&to=2026-03-01"), http.StatusUnprocessableEntity, "The end date is before the start date.")
}

func TestHistoryNeverShowsAnotherPersonsEvents(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "")
	stranger := e.addUser("ken@example.com", "Ken", "")
	seedHistory(t, e, u, stranger)
	b := e.signIn(stranger, uaFirefoxLinux, "192.0.2.99")
	// Whatever the query says, Ken sees his own 20 events only.
	for _, q := range []string{"", "?user=" + u.ID, "?user_id=" + u.ID + "&kind=signin", "?before=1000000"} {
		times, pages := walk(t, b, "/account/history"+q)
		if len(times) != 20 {
			t.Fatalf("%q: %d events, want Ken's 20", q, len(times))
		}
		for _, p := range pages {
			lacks(t, p, "198.51.100.1", "Chrome on Windows")
		}
	}
	contains(t, e.signIn(e.addUser("new@example.com", "New", ""), uaChromeWindows, "198.51.100.3").page("/account/history"),
		"Nothing has been recorded yet.")
}

func TestHistoryShowsWhatThisPackageWrites(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("aiko@example.com", "Aiko", "ja")
	b := e.signIn(u, uaSafariIPhone, "203.0.113.7")
	wantRedirect(t, b.post("/account/password", changeForm(testPassword, newPassword, newPassword)), "/account?done=password")
	b.post("/account/password", changeForm("wrong", newPassword, newPassword))
	page := b.page("/account/history")
	contains(t, page, "パスワード変更", "パスワード変更失敗（現在のパスワードの誤り）", "Safari（iPhone）", "2026年3月2日 09:00 UTC")
	contains(t, b.page("/account/history?kind=account"), "パスワード変更")
	lacks(t, b.page("/account/history?kind=signin"), "パスワード変更")
}
