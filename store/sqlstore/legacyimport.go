package sqlstore

import (
	"context"

	"github.com/customerhub/hubid/store"
)

// The import stages the file's rows in a temporary table (PostgreSQL: COPY
// through Dialect.BulkInsert; SQLite: multi-row INSERTs), then classifies,
// creates organizations, updates and inserts with one set-based statement
// each, so 100,000 rows cost a handful of round trips.

const stagingTable = "legacy_import_staging"

var stagingCols = []string{"line", "login_id", "org_code", "org_name", "new_org_id", "password_hash", "contact_email"}

// insertBatch is how many rows one INSERT carries without BulkInsert
// (staging rows have 7 parameters each, users 11: far below SQLite's
// limit of 32,766).
const insertBatch = 500

// ImportLegacyLoginIDs upserts rows into a service in one transaction.
func (s *Store) ImportLegacyLoginIDs(ctx context.Context, serviceID string, rows []store.LegacyImportRow) (store.LegacyImportResult, error) {
	var res store.LegacyImportResult
	err := s.withTx(ctx, func(t *Store) error {
		if _, err := t.GetService(ctx, serviceID); err != nil {
			return err
		}
		if err := t.stage(ctx, rows); err != nil {
			return err
		}
		var err error
		if res, err = t.applyStaged(ctx, serviceID, len(rows)); err != nil {
			return err
		}
		_, err = t.q.Exec(ctx, `DROP TABLE `+stagingTable)
		return t.wrap("drop staging table", err)
	})
	return res, err
}

func (s *Store) stage(ctx context.Context, rows []store.LegacyImportRow) error {
	if _, err := s.q.Exec(ctx, `DROP TABLE IF EXISTS `+stagingTable); err != nil {
		return s.wrap("drop staging table", err)
	}
	if _, err := s.q.Exec(ctx, `CREATE TEMP TABLE `+stagingTable+` (
		line INTEGER NOT NULL, login_id TEXT NOT NULL, org_code TEXT NOT NULL, org_name TEXT NOT NULL,
		new_org_id TEXT NOT NULL, password_hash TEXT NOT NULL, contact_email TEXT NOT NULL)`); err != nil {
		return s.wrap("create staging table", err)
	}
	values := make([][]any, len(rows))
	for i, r := range rows {
		values[i] = []any{int32(r.Line), r.LoginID, r.OrgCode, r.OrgName, r.NewOrgID, r.PasswordHash, r.ContactEmail}
	}
	return s.insertRows(ctx, "stage import rows", stagingTable, stagingCols, values)
}

func (s *Store) applyStaged(ctx context.Context, serviceID string, n int) (store.LegacyImportResult, error) {
	var res store.LegacyImportResult
	now := micros(s.Now())
	// What will change, computed before anything is written.
	changes, err := list(s, ctx, "classify import", `SELECT s.line, s.login_id, s.org_code,
		CASE WHEN l.login_id IS NULL THEN 1 ELSE 0 END,
		CASE WHEN l.login_id IS NOT NULL AND l.password_hash <> s.password_hash THEN 1 ELSE 0 END,
		CASE WHEN l.login_id IS NOT NULL AND (o.id IS NULL OR l.org_id <> o.id) THEN 1 ELSE 0 END,
		CASE WHEN l.login_id IS NOT NULL AND l.contact_email <> s.contact_email THEN 1 ELSE 0 END
		FROM `+stagingTable+` s
		LEFT JOIN organizations o ON o.code = s.org_code
		LEFT JOIN legacy_login_ids l ON l.service_id = $1 AND l.login_id = s.login_id
		WHERE l.login_id IS NULL OR o.id IS NULL OR l.org_id <> o.id
			OR l.password_hash <> s.password_hash OR l.contact_email <> s.contact_email
		ORDER BY s.line`,
		func(r scanner) (store.LegacyImportChange, error) {
			var c store.LegacyImportChange
			var created, pw, org, contact int64
			err := r.Scan(&c.Line, &c.LoginID, &c.OrgCode, &created, &pw, &org, &contact)
			c.Created, c.PasswordChanged, c.OrgChanged, c.ContactChanged = created == 1, pw == 1, org == 1, contact == 1
			return c, err
		}, serviceID)
	if err != nil {
		return res, err
	}
	res.Changes, res.Unchanged = changes, n-len(changes)
	if res.OrgsCreated, err = list(s, ctx, "list new organizations", `SELECT DISTINCT s.org_code
		FROM `+stagingTable+` s WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.code = s.org_code)
		ORDER BY 1`, func(r scanner) (string, error) {
		var c string
		return c, r.Scan(&c)
	}); err != nil {
		return res, err
	}
	steps := []struct{ op, sql string }{
		{"create organizations", `INSERT INTO organizations (id, code, name, created_at)
			SELECT MIN(s.new_org_id), s.org_code, MIN(s.org_name), CAST($1 AS BIGINT) FROM ` + stagingTable + ` s
			WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.code = s.org_code)
			GROUP BY s.org_code`},
		{"update login IDs", `UPDATE legacy_login_ids SET password_hash = s.password_hash, org_id = o.id,
			contact_email = s.contact_email, updated_at = CAST($1 AS BIGINT)
			FROM ` + stagingTable + ` s JOIN organizations o ON o.code = s.org_code
			WHERE legacy_login_ids.service_id = $2 AND legacy_login_ids.login_id = s.login_id
			AND (legacy_login_ids.password_hash <> s.password_hash OR legacy_login_ids.org_id <> o.id
				OR legacy_login_ids.contact_email <> s.contact_email)`},
		{"insert login IDs", `INSERT INTO legacy_login_ids
			(service_id, login_id, org_id, password_hash, contact_email, disabled, created_at)
			SELECT $2, s.login_id, o.id, s.password_hash, s.contact_email, FALSE, CAST($1 AS BIGINT)
			FROM ` + stagingTable + ` s JOIN organizations o ON o.code = s.org_code
			WHERE NOT EXISTS (SELECT 1 FROM legacy_login_ids l WHERE l.service_id = $2 AND l.login_id = s.login_id)`},
	}
	for i, st := range steps {
		args := []any{now, serviceID}
		if i == 0 {
			args = args[:1]
		}
		if _, err := s.q.Exec(ctx, st.sql, args...); err != nil {
			return res, s.wrap(st.op, err)
		}
	}
	return res, nil
}
