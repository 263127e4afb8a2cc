package idp

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/customerhub/hubid/idp/backchannel"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/store"
)

var (
	descReady = prometheus.NewDesc("hubid_ready",
		"1 while the dependency answers this replica's readiness ping (as /readyz), else 0.",
		[]string{"dependency"}, nil)
	descOutboxPending = prometheus.NewDesc("hubid_outbox_pending",
		"Outbox messages not yet delivered and still to be tried, per kind (the whole deployment's queue).",
		[]string{"kind"}, nil)
	descOutboxOldest = prometheus.NewDesc("hubid_outbox_oldest_pending_age_seconds",
		"Age of the oldest pending outbox message, per kind; 0 when none is pending.",
		[]string{"kind"}, nil)
	descOutboxGivenUp = prometheus.NewDesc("hubid_outbox_given_up",
		"Outbox messages given up (permanent failure or attempts exhausted) and not yet purged, per kind.",
		[]string{"kind"}, nil)
	descOutboxErrors = prometheus.NewDesc("hubid_outbox_backlog_errors_total",
		"Scrapes whose outbox backlog query failed (the outbox series are then absent).",
		nil, nil)
)

// outboxKinds are the kinds always reported, so that an empty queue is a
// 0 rather than a missing series.
var outboxKinds = []string{mail.OutboxKind, backchannel.Kind}

// stateCollector reports, at scrape time, each dependency's readiness and
// the outbox backlog. Both are read live within readyTimeout, so a scrape
// never hangs on a hung dependency.
type stateCollector struct {
	checks []Check
	outbox interface {
		OutboxBacklog(context.Context) ([]store.OutboxBacklog, error)
	}
	now    func() time.Time
	errors atomic.Uint64
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descReady
	ch <- descOutboxPending
	ch <- descOutboxOldest
	ch <- descOutboxGivenUp
	ch <- descOutboxErrors
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for name, err := range pingAll(ctx, c.checks) {
		v := 1.0
		if err != nil {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, v, name)
	}
	if err := c.collectOutbox(ctx, ch); err != nil {
		c.errors.Add(1)
	}
	ch <- prometheus.MustNewConstMetric(descOutboxErrors, prometheus.CounterValue, float64(c.errors.Load()))
}

func (c *stateCollector) collectOutbox(ctx context.Context, ch chan<- prometheus.Metric) error {
	backlog, err := c.outbox.OutboxBacklog(ctx)
	if err != nil {
		return err
	}
	byKind := map[string]store.OutboxBacklog{}
	for _, k := range outboxKinds {
		byKind[k] = store.OutboxBacklog{Kind: k}
	}
	for _, b := range backlog {
		byKind[b.Kind] = b
	}
	now := c.now()
	for k, b := range byKind {
		age := 0.0
		if b.Pending > 0 && !b.Oldest.IsZero() {
			age = max(0, now.Sub(b.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(descOutboxPending, prometheus.GaugeValue, float64(b.Pending), k)
		ch <- prometheus.MustNewConstMetric(descOutboxOldest, prometheus.GaugeValue, age, k)
		ch <- prometheus.MustNewConstMetric(descOutboxGivenUp, prometheus.GaugeValue, float64(b.GivenUp), k)
	}
	return nil
}
