package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/customerhub/hubid/store"
)

// DefaultPageSize is the page size of ListMembers and ListUsers when the
// filter has none.
const DefaultPageSize = 50

// CreateMembership inserts a membership; ErrAlreadyExists when the user is
// a member already, ErrNotFound when the user or organization is missing.
func (s *Store) CreateMembership(ctx context.Context, m store.Membership) error {
	_, err := s.exec(ctx, "create membership",
		`INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4)`,
		m.UserID, m.OrgID, string(m.Role), micros(orNow(m.CreatedAt, s.Now())))
	return err
}

// SetMembershipRole changes a member's role under the organization's lock
// and returns the membership as it was; see changeMembership.
func (s *Store) SetMembershipRole(ctx context.Context, userID, orgID string, role store.Role) (store.Membership, error) {
	return s.changeMembership(ctx, "set membership role", userID, orgID, role)
}

// RemoveMembership deletes a membership under the organization's lock and
// returns it; see changeMembership.
func (s *Store) RemoveMembership(ctx context.Context, userID, orgID string) (store.Membership, error) {
	return s.changeMembership(ctx, "remove membership", userID, orgID, "")
}

// changeMembership sets the role of a membership, or deletes it when role
// is "", in one transaction that first locks the organization's row, so
// that every such change of one organization runs one after the other and
// reads the administrators the previous one left. On PostgreSQL the lock is
// FOR NO KEY UPDATE: it excludes the other changes but not the key-share
// locks of inserts that reference the organization (a new membership), so
// an insert and a change in one transaction cannot deadlock with another
// pair. SQLite's BEGIN IMMEDIATE serializes all writers already.
func (s *Store) changeMembership(ctx context.Context, op, userID, orgID string, role store.Role) (store.Membership, error) {
	var old store.Membership
	err := s.withTx(ctx, func(t *Store) error {
		lock := ""
		if t.d.ForUpdate != "" {
			lock = " FOR NO KEY UPDATE"
		}
		var id string
		if err := t.q.QueryRow(ctx, `SELECT id FROM organizations WHERE id = $1`+lock, orgID).Scan(&id); err != nil {
			return t.wrap(op, err)
		}
		m, err := get(t, ctx, op, `SELECT user_id, org_id, role, created_at FROM memberships
			WHERE user_id = $1 AND org_id = $2`, scanMembership, userID, orgID)
		if err != nil {
			return err
		}
		old = m
		if m.Role == store.RoleAdministrator && role != store.RoleAdministrator {
			var admins int64
			if err := t.q.QueryRow(ctx, `SELECT count(*) FROM memberships WHERE org_id = $1 AND role = $2`,
				orgID, string(store.RoleAdministrator)).Scan(&admins); err != nil {
				return t.wrap(op, err)
			}
			if admins <= 1 {
				return &Error{Op: op, Err: store.ErrLastAdministrator}
			}
		}
		if role == "" {
			_, err = t.q.Exec(ctx, `DELETE FROM memberships WHERE user_id = $1 AND org_id = $2`, userID, orgID)
		} else {
			_, err = t.q.Exec(ctx, `UPDATE memberships SET role = $3 WHERE user_id = $1 AND org_id = $2`,
				userID, orgID, string(role))
		}
		return t.wrap(op, err)
	})
	if err != nil {
		return store.Membership{}, err
	}
	return old, nil
}

// memberSelect reads a member: the membership, the user, whether a TOTP
// authenticator is confirmed, and the latest successful sign-in in the
// usage history (answered by the audit_events_user_kind index).
const memberSelect = `SELECT m.user_id, m.org_id, m.role, m.created_at,
	u.id, u.email, u.email_verified, u.name, u.locale, u.password_hash, u.disabled,
	u.password_changed_at, u.created_at, u.updated_at,
	(SELECT count(*) FROM totp_credentials c WHERE c.user_id = m.user_id AND c.confirmed_at IS NOT NULL),
	(SELECT max(a.occurred_at) FROM audit_events a WHERE a.user_id = m.user_id AND a.kind = 'signin.success')
	FROM memberships m JOIN users u ON u.id = m.user_id`

func scanMember(r scanner) (store.Member, error) {
	var m store.Member
	var mfa int64
	u := &m.User
	err := r.Scan(&m.UserID, &m.OrgID, &m.Role, ts(&m.CreatedAt),
		&u.ID, &u.Email, &u.EmailVerified, &u.Name, &u.Locale, &u.PasswordHash,
		&u.Disabled, ts(&u.PasswordChangedAt), ts(&u.CreatedAt), ts(&u.UpdatedAt),
		&mfa, ts(&m.LastSignIn))
	m.MFA = mfa > 0
	return m, err
}

// GetMember returns one member of an organization.
func (s *Store) GetMember(ctx context.Context, userID, orgID string) (store.Member, error) {
	return get(s, ctx, "get member", memberSelect+` WHERE m.user_id = $1 AND m.org_id = $2`,
		scanMember, userID, orgID)
}

// ListMembers returns a page of an organization's members by folded
// email: those after f.After, matching f.Query, at most f.Limit.
func (s *Store) ListMembers(ctx context.Context, f store.MemberFilter) ([]store.Member, error) {
	w := &where{}
	w.add("m.org_id = " + w.arg(f.OrgID))
	w.search("u.", f.Query, f.After)
	return list(s, ctx, "list members", memberSelect+w.String()+" ORDER BY u.email_folded LIMIT "+w.arg(limitOr(f.Limit)),
		scanMember, w.args...)
}

// ListUsers returns a page of users by folded email: those after f.After,
// matching f.Query, at most f.Limit.
func (s *Store) ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, error) {
	w := &where{}
	w.search("", f.Query, f.After)
	return list(s, ctx, "list users", `SELECT `+userCols+` FROM users`+w.String()+
		" ORDER BY email_folded LIMIT "+w.arg(limitOr(f.Limit)), scanUser, w.args...)
}

func limitOr(n int) int {
	if n <= 0 {
		return DefaultPageSize
	}
	return n
}

// where builds a WHERE clause with numbered arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// search adds the keyset bound (email_folded > after) and the
// case-insensitive substring match of a user's name or email; p prefixes
// the users table's columns. lower() folds ASCII on SQLite and Unicode on
// PostgreSQL, so the name also matches the query as typed.
func (w *where) search(p, query, after string) {
	if after != "" {
		w.add(p + "email_folded > " + w.arg(after))
	}
	if q := strings.TrimSpace(query); q != "" {
		lowered, asTyped, folded := w.arg(likePattern(strings.ToLower(q))), w.arg(likePattern(q)), w.arg(likePattern(store.FoldEmail(q)))
		w.add("(lower(" + p + "name) LIKE " + lowered + ` ESCAPE '\' OR ` + p + "name LIKE " + asTyped +
			` ESCAPE '\' OR ` + p + "email_folded LIKE " + folded + ` ESCAPE '\')`)
	}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// likePattern is a LIKE pattern matching s anywhere, with LIKE's wildcards
// in s escaped by a backslash.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
