package idp

import (
	"context"
	"time"
)

// Run does the background work until ctx ends: signing-key reload and
// scheduled rotation (every 2 s), back-channel logout and mail delivery
// (every 2 s), client origins for CORS (every 30 s), the migration's
// reminder mail (every 5 min; each login ID's once, whichever replica
// wins), and purging usage history past its retention and delivered
// outbox messages (hourly). Every job is safe to run on every replica.
func (s *Server) Run(ctx context.Context) {
	every(ctx, 30*time.Second, func() {
		if err := s.origins.refresh(ctx, s.deps.Durable); err != nil {
			s.deps.Logger.WarnContext(ctx, "refresh client origins", "err", err)
		}
	})
	every(ctx, ReminderInterval, func() {
		if _, err := s.SendLegacyReminders(ctx); err != nil {
			s.deps.Logger.WarnContext(ctx, "legacy reminders", "err", err)
		}
	})
	every(ctx, time.Hour, func() {
		if _, err := s.PurgeAudit(ctx); err != nil {
			s.deps.Logger.WarnContext(ctx, "purge usage history", "err", err)
		}
		if _, err := s.PurgeOutbox(ctx); err != nil {
			s.deps.Logger.WarnContext(ctx, "purge outbox", "err", err)
		}
	})
	if s.mailer != nil {
		mt := time.NewTicker(2 * time.Second)
		defer mt.Stop()
		go s.mailer.Run(ctx, mt.C)
	}
	bt := time.NewTicker(2 * time.Second)
	defer bt.Stop()
	go s.logouts.Run(ctx, bt.C)
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	s.Keys.Run(ctx, t.C)
}

// every runs fn every d in its own goroutine until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// PurgeAudit deletes usage history older than audit.retention and returns
// how many events went.
func (s *Server) PurgeAudit(ctx context.Context) (int64, error) {
	n, err := s.deps.Durable.PurgeAudit(ctx, s.deps.Now().Add(-s.deps.Config.Audit.Retention.D()))
	if err == nil && n > 0 {
		s.deps.Logger.InfoContext(ctx, "purged usage history", "events", n)
	}
	return n, err
}

// OutboxRetention is how long delivered (or given-up) mail and logout
// messages are kept: long enough to investigate a delivery, short enough
// that their links and tokens do not linger.
const OutboxRetention = 7 * 24 * time.Hour

// PurgeOutbox deletes delivered and given-up outbox messages older than
// OutboxRetention.
func (s *Server) PurgeOutbox(ctx context.Context) (int64, error) {
	return s.deps.Durable.PurgeOutbox(ctx, s.deps.Now().Add(-OutboxRetention))
}
