package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/customerhub/hubid/orgs"
	"github.com/customerhub/hubid/store"
)

// JSON forms of records (--output json).
type orgJSON struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func orgOut(o store.Organization) orgJSON { return orgJSON{o.ID, o.Code, o.Name, o.CreatedAt} }

type serviceJSON struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func serviceOut(v store.Service) serviceJSON { return serviceJSON{v.ID, v.Code, v.Name, v.CreatedAt} }

type membershipJSON struct {
	UserID    string     `json:"user_id"`
	OrgID     string     `json:"org_id"`
	Role      store.Role `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
}

func membershipOut(m store.Membership) membershipJSON {
	return membershipJSON{m.UserID, m.OrgID, m.Role, m.CreatedAt}
}

var orgsOrder = []string{"list", "show", "create", "update", "delete", "members", "entitle", "unentitle", "history"}

// cmdOrgs is `hubid orgs ...`.
func cmdOrgs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var code, name, search, kind, person *string
	var limit *int
	ops := map[string]operation{
		"list": {run: func(c *opCmd) error {
			os, err := c.svc.ListOrganizations(c.ctx, cliActor)
			if err != nil {
				return err
			}
			out := make([]orgJSON, 0, len(os))
			for _, o := range os {
				out = append(out, orgOut(o))
			}
			return c.emit(out, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tCODE\tNAME")
				for _, o := range os {
					fmt.Fprintf(w, "%s\t%s\t%s\n", o.ID, o.Code, o.Name)
				}
			})
		}},
		"show": {args: []string{"ORG"}, run: func(c *opCmd) error {
			o, err := c.svc.Organization(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			svcs, err := c.svc.Entitlements(c.ctx, cliActor, o.ID)
			if err != nil {
				return err
			}
			codes := []string{}
			for _, v := range svcs {
				codes = append(codes, v.Code)
			}
			return c.emit(struct {
				orgJSON
				Services []string `json:"services"`
			}{orgOut(o), codes}, func(w io.Writer) {
				fmt.Fprintf(w, "id\t%s\ncode\t%s\nname\t%s\ncreated\t%s\nservices\t%v\n", o.ID, o.Code, o.Name, tsText(o.CreatedAt), codes)
			})
		}},
		"create": {args: []string{"CODE", "NAME"}, run: func(c *opCmd) error {
			o, err := c.svc.CreateOrganization(c.ctx, cliActor, c.args[0], c.args[1])
			if err != nil {
				return err
			}
			return c.emit(orgOut(o), func(w io.Writer) { fmt.Fprintf(w, "created organization %s (%s)\n", o.Code, o.ID) })
		}},
		"update": {args: []string{"ORG"}, flags: func(fs *flag.FlagSet) {
			code = fs.String("code", "", "new code")
			name = fs.String("name", "", "new name")
		}, run: func(c *opCmd) error {
			o, err := c.svc.Organization(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			o, err = c.svc.UpdateOrganization(c.ctx, cliActor, o.ID, orgs.Update{Code: setOnly(*code), Name: setOnly(*name)})
			if err != nil {
				return err
			}
			return c.emit(orgOut(o), func(w io.Writer) { fmt.Fprintf(w, "updated organization %s: %s\n", o.Code, o.Name) })
		}},
		"delete": {args: []string{"ORG"}, run: func(c *opCmd) error {
			o, err := c.svc.Organization(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			if err := c.svc.DeleteOrganization(c.ctx, cliActor, o.ID); err != nil {
				return err
			}
			return c.done("deleted organization " + o.Code)
		}},
		"members": {args: []string{"ORG"}, flags: func(fs *flag.FlagSet) {
			search = fs.String("search", "", "part of a name or an email")
			limit = fs.Int("limit", 0, "at most this many (default: every member)")
		}, run: func(c *opCmd) error {
			o, err := c.svc.Organization(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			var all []orgs.Member
			cursor := ""
			for {
				p, err := c.svc.ListMembers(c.ctx, cliActor, o.ID, orgs.MemberQuery{Search: *search, Cursor: cursor, Limit: orgs.MaxPageSize})
				if err != nil {
					return err
				}
				all = append(all, p.Members...)
				if cursor = p.Next; cursor == "" || (*limit > 0 && len(all) >= *limit) {
					break
				}
			}
			if *limit > 0 && len(all) > *limit {
				all = all[:*limit]
			}
			if all == nil {
				all = []orgs.Member{}
			}
			return c.emit(all, func(w io.Writer) {
				fmt.Fprintln(w, "EMAIL\tNAME\tROLE\tMFA\tLAST SIGN-IN")
				for _, m := range all {
					fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\n", m.Email, m.Name, m.Role, m.MFA, tsText(m.LastSignIn))
				}
			})
		}},
		"entitle":   entitlementOp(true),
		"unentitle": entitlementOp(false),
		"history": {args: []string{"ORG"}, flags: func(fs *flag.FlagSet) {
			kind = fs.String("kind", "", "only events of this kind")
			person = fs.String("person", "", "only events about or by this account (email or ID)")
			limit = fs.Int("limit", 50, "at most this many")
		}, run: func(c *opCmd) error {
			o, err := c.svc.Organization(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			q := orgs.HistoryQuery{Limit: *limit}
			if *kind != "" {
				q.Kinds = []string{*kind}
			}
			if *person != "" {
				u, err := c.svc.FindUser(c.ctx, cliActor, *person)
				if err != nil {
					return err
				}
				q.Person = u.Account.ID
			}
			p, err := c.svc.History(c.ctx, cliActor, o.ID, q)
			if err != nil {
				return err
			}
			evs := p.Events
			if evs == nil {
				evs = []store.AuditEvent{}
			}
			return c.emit(evs, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tTIME\tKIND\tACTOR\tUSER\tDETAIL")
				for _, e := range evs {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%v\n", e.ID, tsText(e.Time), e.Kind, e.ActorID, e.UserID, e.Detail)
				}
			})
		}},
	}
	return runOperations(ctx, "orgs", ops, orgsOrder, args, stdout, stderr)
}

// entitlementOp is `orgs entitle|unentitle ORG SERVICE`.
func entitlementOp(grant bool) operation {
	return operation{args: []string{"ORG", "SERVICE"}, run: func(c *opCmd) error {
		o, err := c.svc.Organization(c.ctx, c.args[0])
		if err != nil {
			return err
		}
		v, err := c.svc.Service(c.ctx, c.args[1])
		if err != nil {
			return err
		}
		if grant {
			if err := c.svc.Entitle(c.ctx, cliActor, o.ID, v.ID); err != nil {
				return err
			}
			return c.done(o.Code + " may use " + v.Code)
		}
		if err := c.svc.Unentitle(c.ctx, cliActor, o.ID, v.ID); err != nil {
			return err
		}
		return c.done(o.Code + " may no longer use " + v.Code)
	}}
}

// setOnly is nil for an empty flag (unchanged), else a pointer to it.
func setOnly(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

var servicesOrder = []string{"list", "show", "create", "update", "delete"}

// cmdServices is `hubid services ...`.
func cmdServices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var code, name *string
	ops := map[string]operation{
		"list": {run: func(c *opCmd) error {
			vs, err := c.svc.ListServices(c.ctx, cliActor)
			if err != nil {
				return err
			}
			out := make([]serviceJSON, 0, len(vs))
			for _, v := range vs {
				out = append(out, serviceOut(v))
			}
			return c.emit(out, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tCODE\tNAME")
				for _, v := range vs {
					fmt.Fprintf(w, "%s\t%s\t%s\n", v.ID, v.Code, v.Name)
				}
			})
		}},
		"show": {args: []string{"SERVICE"}, run: func(c *opCmd) error {
			v, err := c.svc.Service(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			return c.emit(serviceOut(v), func(w io.Writer) {
				fmt.Fprintf(w, "id\t%s\ncode\t%s\nname\t%s\ncreated\t%s\n", v.ID, v.Code, v.Name, tsText(v.CreatedAt))
			})
		}},
		"create": {args: []string{"CODE", "NAME"}, run: func(c *opCmd) error {
			v, err := c.svc.CreateService(c.ctx, cliActor, c.args[0], c.args[1])
			if err != nil {
				return err
			}
			return c.emit(serviceOut(v), func(w io.Writer) { fmt.Fprintf(w, "created service %s (%s)\n", v.Code, v.ID) })
		}},
		"update": {args: []string{"SERVICE"}, flags: func(fs *flag.FlagSet) {
			code = fs.String("code", "", "new code")
			name = fs.String("name", "", "new name")
		}, run: func(c *opCmd) error {
			v, err := c.svc.Service(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			v, err = c.svc.UpdateService(c.ctx, cliActor, v.ID, orgs.Update{Code: setOnly(*code), Name: setOnly(*name)})
			if err != nil {
				return err
			}
			return c.emit(serviceOut(v), func(w io.Writer) { fmt.Fprintf(w, "updated service %s: %s\n", v.Code, v.Name) })
		}},
		"delete": {args: []string{"SERVICE"}, run: func(c *opCmd) error {
			v, err := c.svc.Service(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			if err := c.svc.DeleteService(c.ctx, cliActor, v.ID); err != nil {
				return err
			}
			return c.done("deleted service " + v.Code)
		}},
	}
	return runOperations(ctx, "services", ops, servicesOrder, args, stdout, stderr)
}
