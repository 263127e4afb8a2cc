package idp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/customerhub/hubid/store"
)

type backlogFunc func(context.Context) ([]store.OutboxBacklog, error)

func (f backlogFunc) OutboxBacklog(ctx context.Context) ([]store.OutboxBacklog, error) { return f(ctx) }

// hubid_ready follows each dependency's ping; the outbox gauges report
// every known kind (0 when empty) and the oldest pending message's age by
// the injected clock; a failed backlog query drops the outbox series and
// counts an error.
func TestStateMetrics(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	fail := false
	c := &stateCollector{
		checks: []Check{
			{Name: "postgres", P: pingFunc(func(context.Context) error { return nil })},
			{Name: "redis", P: pingFunc(func(context.Context) error { return errors.New("down") })},
		},
		outbox: backlogFunc(func(context.Context) ([]store.OutboxBacklog, error) {
			if fail {
				return nil, errors.New("postgres down")
			}
			return []store.OutboxBacklog{{Kind: "mail", Pending: 3, Oldest: now.Add(-90 * time.Second), GivenUp: 2}}, nil
		}),
		now: func() time.Time { return now },
	}
	want := `
# HELP hubid_ready 1 while the dependency answers this replica's readiness ping (as /readyz), else 0.
# TYPE hubid_ready gauge
hubid_ready{dependency="postgres"} 1
hubid_ready{dependency="redis"} 0
# HELP hubid_outbox_pending Outbox messages not yet delivered and still to be tried, per kind (the whole deployment's queue).
# TYPE hubid_outbox_pending gauge
hubid_outbox_pending{kind="backchannel_logout"} 0
hubid_outbox_pending{kind="mail"} 3
# HELP hubid_outbox_oldest_pending_age_seconds Age of the oldest pending outbox message, per kind; 0 when none is pending.
# TYPE hubid_outbox_oldest_pending_age_seconds gauge
hubid_outbox_oldest_pending_age_seconds{kind="backchannel_logout"} 0
hubid_outbox_oldest_pending_age_seconds{kind="mail"} 90
# HELP hubid_outbox_given_up Outbox messages given up (permanent failure or attempts exhausted) and not yet purged, per kind.
# TYPE hubid_outbox_given_up gauge
hubid_outbox_given_up{kind="backchannel_logout"} 0
hubid_outbox_given_up{kind="mail"} 2
# HELP hubid_outbox_backlog_errors_total Scrapes whose outbox backlog query failed (the outbox series are then absent).
# TYPE hubid_outbox_backlog_errors_total counter
hubid_outbox_backlog_errors_total 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	fail = true
	if n := testutil.CollectAndCount(c, "hubid_outbox_pending"); n != 0 {
		t.Fatalf("outbox series during a failed query: %d", n)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP hubid_outbox_backlog_errors_total Scrapes whose outbox backlog query failed (the outbox series are then absent).
# TYPE hubid_outbox_backlog_errors_total counter
hubid_outbox_backlog_errors_total 2
`), "hubid_outbox_backlog_errors_total"); err != nil {
		t.Fatal(err)
	}
}
