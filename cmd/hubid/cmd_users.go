package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

var usersOrder = []string{"list", "show", "create", "update", "delete", "add-membership", "set-role", "remove-membership"}

// cmdUsers is `hubid users ...`.
func cmdUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var search, name, disabled *string
	var verified, deleteAccount *bool
	var limit *int
	ops := map[string]operation{
		"list": {flags: func(fs *flag.FlagSet) {
			search = fs.String("search", "", "part of a name or an email")
			limit = fs.Int("limit", 0, "at most this many (default: every account)")
		}, run: func(c *opCmd) error {
			var all []orgs.Account
			cursor := ""
			for {
				p, err := c.svc.ListUsers(c.ctx, cliActor, orgs.UserQuery{Search: *search, Cursor: cursor, Limit: orgs.MaxPageSize})
				if err != nil {
					return err
				}
				all = append(all, p.Users...)
				if cursor = p.Next; cursor == "" || (*limit > 0 && len(all) >= *limit) {
					break
				}
			}
			if *limit > 0 && len(all) > *limit {
				all = all[:*limit]
			}
			if all == nil {
				all = []orgs.Account{}
			}
			return c.emit(all, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tEMAIL\tNAME\tVERIFIED\tDISABLED")
				for _, u := range all {
					fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%v\n", u.ID, u.Email, u.Name, u.EmailVerified, u.Disabled)
				}
			})
		}},
		"show": {args: []string{"USER"}, run: func(c *opCmd) error {
			d, err := c.svc.FindUser(c.ctx, cliActor, c.args[0])
			if err != nil {
				return err
			}
			ms := make([]membershipJSON, 0, len(d.Memberships))
			for _, m := range d.Memberships {
				ms = append(ms, membershipOut(m))
			}
			return c.emit(struct {
				orgs.Account
				Memberships []membershipJSON `json:"memberships"`
			}{d.Account, ms}, func(w io.Writer) {
				a := d.Account
				fmt.Fprintf(w, "id\t%s\nemail\t%s\nname\t%s\nverified\t%v\ndisabled\t%v\npassword\t%v\ncreated\t%s\n",
					a.ID, a.Email, a.Name, a.EmailVerified, a.Disabled, a.HasPassword, tsText(a.CreatedAt))
				for _, m := range d.Memberships {
					code := m.OrgID
					if o, err := c.svc.Organization(c.ctx, m.OrgID); err == nil {
						code = o.Code
					}
					fmt.Fprintf(w, "member of\t%s (%s)\n", code, m.Role)
				}
			})
		}},
		"create": {args: []string{"EMAIL", "NAME"}, flags: func(fs *flag.FlagSet) {
			verified = fs.Bool("verified", false, "mark the email address verified")
		}, run: func(c *opCmd) error {
			a, err := c.svc.CreateUser(c.ctx, cliActor, c.args[0], c.args[1], *verified)
			if err != nil {
				return err
			}
			return c.emit(a, func(w io.Writer) {
				fmt.Fprintf(w, "created account %s (%s); it has no password: invite it, or the person uses \"forgot password\"\n", a.Email, a.ID)
			})
		}},
		"update": {args: []string{"USER"}, flags: func(fs *flag.FlagSet) {
			name = fs.String("name", "", "new name")
			disabled = fs.String("disabled", "", "true or false")
		}, run: func(c *opCmd) error {
			up := orgs.UserUpdate{Name: setOnly(*name)}
			if *disabled != "" {
				b, err := strconv.ParseBool(*disabled)
				if err != nil {
					return badInput("--disabled must be true or false")
				}
				up.Disabled = &b
			}
			a, err := c.svc.UpdateUser(c.ctx, cliActor, c.args[0], up)
			if err != nil {
				return err
			}
			return c.emit(a, func(w io.Writer) { fmt.Fprintf(w, "updated account %s\n", a.Email) })
		}},
		"delete": {args: []string{"USER"}, run: func(c *opCmd) error {
			if err := c.svc.DeleteUser(c.ctx, cliActor, c.args[0]); err != nil {
				return err
			}
			return c.done("deleted account " + c.args[0])
		}},
		"add-membership": {args: []string{"USER", "ORG", "ROLE"}, run: func(c *opCmd) error {
			u, o, role, err := membershipArgs(c, true)
			if err != nil {
				return err
			}
			m, err := c.svc.AddMember(c.ctx, cliActor, o.ID, u.ID, role)
			if err != nil {
				return err
			}
			return c.emit(membershipOut(m), func(w io.Writer) { fmt.Fprintf(w, "%s is %s of %s\n", u.Email, role, o.Code) })
		}},
		"set-role": {args: []string{"USER", "ORG", "ROLE"}, run: func(c *opCmd) error {
			u, o, role, err := membershipArgs(c, true)
			if err != nil {
				return err
			}
			m, err := c.svc.ChangeRole(c.ctx, cliActor, o.ID, u.ID, role)
			if err != nil {
				return err
			}
			return c.emit(membershipOut(m), func(w io.Writer) { fmt.Fprintf(w, "%s is %s of %s\n", u.Email, role, o.Code) })
		}},
		"remove-membership": {args: []string{"USER", "ORG"}, flags: func(fs *flag.FlagSet) {
			deleteAccount = fs.Bool("delete-account", false, "also delete the account (only if it belongs to no other organization)")
		}, run: func(c *opCmd) error {
			u, o, _, err := membershipArgs(c, false)
			if err != nil {
				return err
			}
			r, err := c.svc.RemoveMember(c.ctx, cliActor, o.ID, u.ID, orgs.RemoveOptions{DeleteAccount: *deleteAccount})
			if err != nil {
				return err
			}
			msg := u.Email + " removed from " + o.Code
			if r.AccountDeleted {
				msg += "; account deleted"
			}
			return c.done(msg)
		}},
	}
	return runOperations(ctx, "users", ops, usersOrder, args, stdout, stderr)
}

// membershipArgs resolves USER ORG [ROLE].
func membershipArgs(c *opCmd, withRole bool) (orgs.Account, store.Organization, store.Role, error) {
	var role store.Role
	if withRole {
		var err error
		if role, err = orgs.ParseRole(c.args[2]); err != nil {
			return orgs.Account{}, store.Organization{}, "", err
		}
	}
	d, err := c.svc.FindUser(c.ctx, cliActor, c.args[0])
	if err != nil {
		return orgs.Account{}, store.Organization{}, "", err
	}
	o, err := c.svc.Organization(c.ctx, c.args[1])
	if err != nil {
		return orgs.Account{}, store.Organization{}, "", err
	}
	return d.Account, o, role, nil
}
