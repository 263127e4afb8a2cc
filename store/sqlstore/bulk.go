package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/customerhub/hubid/store"
)

// Bulk loading, for seeding large stores (cmd/hubid-bench seed): rows go
// in through Dialect.BulkInsert (COPY on PostgreSQL) or batched multi-row
// INSERTs, in one transaction per call, with the very columns and
// conversions of CreateUser and CreateMembership. There is no per-row
// conflict handling: any duplicate fails the whole call.

var (
	bulkUserCols = []string{"id", "email", "email_folded", "email_verified", "name", "locale",
		"password_hash", "disabled", "password_changed_at", "created_at", "updated_at"}
	bulkMembershipCols = []string{"user_id", "org_id", "role", "created_at"}
)

// BulkCreateUsers inserts users in one transaction, as CreateUser would
// one by one (zero CreatedAt and UpdatedAt become now).
func (s *Store) BulkCreateUsers(ctx context.Context, users []store.User) error {
	now := s.Now()
	rows := make([][]any, len(users))
	for i, u := range users {
		created := orNow(u.CreatedAt, now)
		rows[i] = []any{u.ID, u.Email, store.FoldEmail(u.Email), u.EmailVerified, u.Name, u.Locale,
			u.PasswordHash, u.Disabled, nullMicros(u.PasswordChangedAt), micros(created),
			micros(orNow(u.UpdatedAt, created))}
	}
	return s.withTx(ctx, func(t *Store) error {
		return t.insertRows(ctx, "bulk create users", "users", bulkUserCols, rows)
	})
}

// BulkCreateMemberships inserts memberships in one transaction, as
// CreateMembership would one by one.
func (s *Store) BulkCreateMemberships(ctx context.Context, ms []store.Membership) error {
	now := s.Now()
	rows := make([][]any, len(ms))
	for i, m := range ms {
		rows[i] = []any{m.UserID, m.OrgID, string(m.Role), micros(orNow(m.CreatedAt, now))}
	}
	return s.withTx(ctx, func(t *Store) error {
		return t.insertRows(ctx, "bulk create memberships", "memberships", bulkMembershipCols, rows)
	})
}

// insertRows loads rows into table: BulkInsert when the dialect has it,
// else multi-row INSERTs of at most insertBatch rows (and far fewer
// parameters than SQLite's limit of 32,766).
func (s *Store) insertRows(ctx context.Context, op, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if s.d.BulkInsert != nil {
		return s.wrap(op, s.d.BulkInsert(ctx, s.q, table, cols, rows))
	}
	for start := 0; start < len(rows); start += insertBatch {
		batch := rows[start:min(start+insertBatch, len(rows))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES `)
		args := make([]any, 0, len(batch)*len(cols))
		for i, v := range batch {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j := range v {
				if j > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "$%d", len(args)+j+1)
			}
			sb.WriteByte(')')
			args = append(args, v...)
		}
		if _, err := s.q.Exec(ctx, sb.String(), args...); err != nil {
			return s.wrap(op, err)
		}
	}
	return nil
}

// Analyze refreshes the query planner's statistics of tables. A bulk load
// leaves them stale until autovacuum gets round to it (a minute or more
// on PostgreSQL, never on SQLite): without them PostgreSQL planned the
// claims query (ListEntitledMemberships) over a million memberships as a
// probe of every organization entitled to the service, 3 ms instead of
// 0.14 ms. Bulk loaders call it when they are done.
func (s *Store) Analyze(ctx context.Context, tables ...string) error {
	for _, t := range tables {
		if t == "" || strings.Trim(t, "abcdefghijklmnopqrstuvwxyz_") != "" {
			return fmt.Errorf("sqlstore: analyze: bad table name %q", t)
		}
		if _, err := s.q.Exec(ctx, `ANALYZE `+t); err != nil {
			return s.wrap("analyze "+t, err)
		}
	}
	return nil
}
