package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/customerhub/hubid/store"
)

const outboxCols = `id, kind, payload, created_at, attempts, next_attempt, lease_until, sent_at, last_error`

// outboxReturning is outboxCols qualified, for UPDATE ... FROM.
const outboxReturning = `outbox.id, outbox.kind, outbox.payload, outbox.created_at, outbox.attempts,
	outbox.next_attempt, outbox.lease_until, outbox.sent_at, outbox.last_error`

func scanOutbox(r scanner) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	err := r.Scan(&m.ID, &m.Kind, bs(&m.Payload), ts(&m.CreatedAt), &m.Attempts, ts(&m.NextAttempt),
		ts(&m.LeaseUntil), ts(&m.SentAt), &m.LastError)
	return m, err
}

// EnqueueOutbox adds a message and returns its ID. A zero CreatedAt is
// filled from the clock and a zero NextAttempt means "due at CreatedAt".
// m.ID is ignored.
func (s *Store) EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (int64, error) {
	m.CreatedAt = orNow(m.CreatedAt, s.Now())
	m.NextAttempt = orNow(m.NextAttempt, m.CreatedAt)
	return writeRow(s, ctx, "enqueue outbox message", `INSERT INTO outbox
		(kind, payload, created_at, attempts, next_attempt, lease_until, sent_at, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		func(r scanner) (int64, error) {
			var id int64
			err := r.Scan(&id)
			return id, err
		},
		m.Kind, blob(m.Payload), micros(m.CreatedAt), m.Attempts, micros(m.NextAttempt),
		nullMicros(m.LeaseUntil), nullMicros(m.SentAt), m.LastError)
}

// ClaimOutbox leases up to limit due messages of a kind until now+lease
// and returns them, oldest due first; limit <= 0 claims nothing. The
// candidates are picked once, in a CTE, with the dialect's SkipLocked (FOR
// UPDATE SKIP LOCKED on PostgreSQL, where a plain `id IN (SELECT ... LIMIT
// n)` may be evaluated more than once and claim more than n; SQLite runs
// the whole statement under its database write lock), so two workers never
// claim the same message while its lease holds.
func (s *Store) ClaimOutbox(ctx context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	msgs, err := writeRows(s, ctx, "claim outbox messages", `WITH picked AS (
			SELECT id FROM outbox
			WHERE kind = $1 AND sent_at IS NULL AND next_attempt <= $2
				AND (lease_until IS NULL OR lease_until <= $2)
			ORDER BY next_attempt, id LIMIT $3`+s.d.SkipLocked+`
		)
		UPDATE outbox SET lease_until = $4 FROM picked WHERE outbox.id = picked.id
		RETURNING `+outboxReturning,
		scanOutbox, kind, micros(now), limit, micros(now.Add(lease)))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(msgs, func(a, b store.OutboxMessage) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return msgs, nil
}

// MarkOutboxSent records that a message was delivered and ends its lease.
func (s *Store) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	return s.execOne(ctx, "mark outbox message sent",
		`UPDATE outbox SET sent_at = $2, lease_until = NULL WHERE id = $1`, id, micros(at))
}

// MarkOutboxFailed records an error, bumps Attempts, ends the lease and
// schedules the next attempt; a zero next gives up (the message is never
// due again).
func (s *Store) MarkOutboxFailed(ctx context.Context, id int64, errText string, next time.Time) error {
	return s.execOne(ctx, "mark outbox message failed", `UPDATE outbox SET attempts = attempts + 1,
		last_error = $2, next_attempt = $3, lease_until = NULL WHERE id = $1`, id, errText, nullMicros(next))
}

// GetOutbox returns a message by ID.
func (s *Store) GetOutbox(ctx context.Context, id int64) (store.OutboxMessage, error) {
	return get(s, ctx, "get outbox message", `SELECT `+outboxCols+` FROM outbox WHERE id = $1`, scanOutbox, id)
}

// PurgeOutbox deletes sent messages, and given-up ones, older than before.
func (s *Store) PurgeOutbox(ctx context.Context, before time.Time) (int64, error) {
	return s.exec(ctx, "purge outbox", `DELETE FROM outbox WHERE
		(sent_at IS NOT NULL AND sent_at < $1) OR
		(sent_at IS NULL AND next_attempt IS NULL AND attempts > 0 AND created_at < $1)`, micros(before))
}

// OutboxBacklog counts the unsent messages per kind (the partial index
// outbox_due covers them).
func (s *Store) OutboxBacklog(ctx context.Context) ([]store.OutboxBacklog, error) {
	return list(s, ctx, "outbox backlog", `SELECT kind,
			COUNT(CASE WHEN next_attempt IS NOT NULL THEN 1 END),
			MIN(CASE WHEN next_attempt IS NOT NULL THEN created_at END),
			COUNT(CASE WHEN next_attempt IS NULL THEN 1 END)
		FROM outbox WHERE sent_at IS NULL GROUP BY kind ORDER BY kind`,
		func(r scanner) (store.OutboxBacklog, error) {
			var b store.OutboxBacklog
			err := r.Scan(&b.Kind, &b.Pending, ts(&b.Oldest), &b.GivenUp)
			return b, err
		})
}
