package orgs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/customerhub/hubid/store"
)

// Account is what operators see of an account (never its password hash).
type Account struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name"`
	Locale        string    `json:"locale,omitempty"`
	Disabled      bool      `json:"disabled"`
	HasPassword   bool      `json:"has_password"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func accountOf(u store.User) Account {
	return Account{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, Locale: u.Locale,
		Disabled: u.Disabled, HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// UserQuery selects a page of accounts.
type UserQuery struct {
	Search string // part of a name or an email
	Cursor string // UserPage.Next of the previous page
	Limit  int    // 0 = DefaultPageSize; at most MaxPageSize
}

// UserPage is one page of accounts, by email.
type UserPage struct {
	Users []Account
	Next  string
}

// ListUsers pages through every account (operators).
func (s *Service) ListUsers(ctx context.Context, actor Actor, q UserQuery) (UserPage, error) {
	if err := operator(actor); err != nil {
		return UserPage{}, err
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return UserPage{}, err
	}
	n := pageSize(q.Limit)
	us, err := s.d.Store.ListUsers(ctx, store.UserFilter{Query: q.Search, After: after, Limit: n + 1})
	if err != nil {
		return UserPage{}, fmt.Errorf("orgs: list users: %w", err)
	}
	var p UserPage
	if len(us) > n {
		us = us[:n]
		p.Next = encodeCursor(store.FoldEmail(us[n-1].Email))
	}
	for _, u := range us {
		p.Users = append(p.Users, accountOf(u))
	}
	return p, nil
}

// UserDetail is an account with its memberships.
type UserDetail struct {
	Account     Account            `json:"account"`
	Memberships []store.Membership `json:"memberships"`
}

// FindUser returns an account, by ID or email, with its memberships
// (operators).
func (s *Service) FindUser(ctx context.Context, actor Actor, idOrEmail string) (UserDetail, error) {
	if err := operator(actor); err != nil {
		return UserDetail{}, err
	}
	u, err := s.lookupUser(ctx, s.d.Store, idOrEmail)
	if err != nil {
		return UserDetail{}, err
	}
	ms, err := s.d.Store.ListMembershipsByUser(ctx, u.ID)
	if err != nil {
		return UserDetail{}, fmt.Errorf("orgs: memberships: %w", err)
	}
	return UserDetail{Account: accountOf(u), Memberships: ms}, nil
}

// lookupUser finds an account by email (when it has an "@") or ID.
func (s *Service) lookupUser(ctx context.Context, tx Tx, idOrEmail string) (store.User, error) {
	idOrEmail = strings.TrimSpace(idOrEmail)
	var u store.User
	var err error
	if strings.Contains(idOrEmail, "@") {
		u, err = tx.GetUserByEmail(ctx, idOrEmail)
	} else {
		u, err = tx.GetUser(ctx, idOrEmail)
	}
	if err != nil {
		return store.User{}, notFound(err, "account")
	}
	return u, nil
}

// CreateUser creates an account without a password (operators): the
// person sets one through "forgot password", or is invited. The email is
// marked verified only when verified is true.
func (s *Service) CreateUser(ctx context.Context, actor Actor, email, name string, verified bool) (Account, error) {
	if err := operator(actor); err != nil {
		return Account{}, err
	}
	email = strings.TrimSpace(email)
	if !PlausibleEmail(email) {
		return Account{}, invalid("enter a valid email address")
	}
	name, err := checkName(name)
	if err != nil {
		return Account{}, err
	}
	id, err := s.newID()
	if err != nil {
		return Account{}, err
	}
	now := s.now()
	u := store.User{ID: id, Email: email, EmailVerified: verified, Name: name, CreatedAt: now, UpdatedAt: now}
	err = s.d.Store.InTx(ctx, func(tx store.Durable) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return conflictOr(err, "the email address")
		}
		return s.audit(ctx, tx, actor, AuditUserCreated, "", id, map[string]string{"email": email})
	})
	if err != nil {
		return Account{}, err
	}
	return accountOf(u), nil
}

// UserUpdate is a change of an account; nil fields stay as they are.
type UserUpdate struct {
	Name     *string
	Disabled *bool
	Locale   *string // "" (negotiate from the browser), "en" or "ja"
}

// UpdateUser changes an account's name or disables it (operators).
func (s *Service) UpdateUser(ctx context.Context, actor Actor, idOrEmail string, up UserUpdate) (Account, error) {
	if err := operator(actor); err != nil {
		return Account{}, err
	}
	if up.Name == nil && up.Disabled == nil && up.Locale == nil {
		return Account{}, invalid("nothing to change")
	}
	if up.Locale != nil && *up.Locale != "" && *up.Locale != "en" && *up.Locale != "ja" {
		return Account{}, invalid(`the language must be "", "en" or "ja"`)
	}
	name := ""
	if up.Name != nil {
		var err error
		if name, err = checkName(*up.Name); err != nil {
			return Account{}, err
		}
	}
	var out store.User
	err := s.d.Store.InTx(ctx, func(tx store.Durable) error {
		u, err := s.lookupUser(ctx, tx, idOrEmail)
		if err != nil {
			return err
		}
		out, err = tx.UpdateUser(ctx, u.ID, func(u *store.User) error {
			u.Name = cmpOr(name, u.Name)
			if up.Disabled != nil {
				u.Disabled = *up.Disabled
			}
			if up.Locale != nil {
				u.Locale = *up.Locale
			}
			return nil
		})
		if err != nil {
			return notFound(err, "account")
		}
		detail := map[string]string{}
		if up.Name != nil {
			detail["name"] = name
		}
		if up.Disabled != nil {
			detail["disabled"] = fmt.Sprint(*up.Disabled)
		}
		if up.Locale != nil {
			detail["locale"] = *up.Locale
		}
		return s.audit(ctx, tx, actor, AuditUserUpdated, "", out.ID, detail)
	})
	if err != nil {
		return Account{}, err
	}
	return accountOf(out), nil
}

// DeleteUser deletes an account (operators). It is refused with
// apperr.LastAdministrator when the account is an organization's last
// administrator: each membership is removed under the rule first.
func (s *Service) DeleteUser(ctx context.Context, actor Actor, idOrEmail string) error {
	if err := operator(actor); err != nil {
		return err
	}
	return s.d.Store.InTx(ctx, func(tx store.Durable) error {
		u, err := s.lookupUser(ctx, tx, idOrEmail)
		if err != nil {
			return err
		}
		ms, err := tx.ListMembershipsByUser(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("orgs: memberships: %w", err)
		}
		for _, m := range ms {
			if _, err := tx.RemoveMembership(ctx, u.ID, m.OrgID); err != nil {
				return lastAdmin(err)
			}
			if err := s.audit(ctx, tx, actor, AuditMemberRemoved, m.OrgID, u.ID, map[string]string{"role": string(m.Role), "account_deleted": "true"}); err != nil {
				return err
			}
		}
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return notFound(err, "account")
		}
		return s.audit(ctx, tx, actor, AuditUserDeleted, "", u.ID, map[string]string{"email": u.Email})
	})
}
