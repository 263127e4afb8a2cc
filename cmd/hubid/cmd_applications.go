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

type applicationJSON struct {
	ID          string                  `json:"id"`
	Org         string                  `json:"org"`
	Service     string                  `json:"service"`
	ApplicantID string                  `json:"applicant_id"`
	Note        string                  `json:"note,omitempty"`
	Status      store.ApplicationStatus `json:"status"`
	Reason      string                  `json:"reason,omitempty"`
	DecidedBy   string                  `json:"decided_by,omitempty"`
	CreatedAt   time.Time               `json:"created_at"`
	DecidedAt   time.Time               `json:"decided_at,omitzero"`
}

func (c *opCmd) applicationOut(a store.ServiceApplication) applicationJSON {
	org, svc := a.OrgID, a.ServiceID
	if o, err := c.svc.Organization(c.ctx, a.OrgID); err == nil {
		org = o.Code
	}
	if v, err := c.svc.Service(c.ctx, a.ServiceID); err == nil {
		svc = v.Code
	}
	return applicationJSON{ID: a.ID, Org: org, Service: svc, ApplicantID: a.ApplicantID, Note: a.Note, Status: a.Status,
		Reason: a.Reason, DecidedBy: a.DecidedBy, CreatedAt: a.CreatedAt, DecidedAt: a.DecidedAt}
}

func (c *opCmd) showApplication(a store.ServiceApplication) error {
	out := c.applicationOut(a)
	return c.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "id\t%s\norg\t%s\nservice\t%s\nstatus\t%s\napplicant\t%s\nnote\t%s\ncreated\t%s\n",
			out.ID, out.Org, out.Service, out.Status, out.ApplicantID, out.Note, tsText(out.CreatedAt))
		if out.Status != store.ApplicationPending {
			fmt.Fprintf(w, "decided\t%s by %s\nreason\t%s\n", tsText(out.DecidedAt), out.DecidedBy, out.Reason)
		}
	})
}

var applicationsOrder = []string{"list", "show", "approve", "reject"}

// cmdApplications is `hubid applications ...`.
func cmdApplications(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var org, status, reason *string
	ops := map[string]operation{
		"list": {flags: func(fs *flag.FlagSet) {
			org = fs.String("org", "", "only this organization's (code or ID)")
			status = fs.String("status", "", "pending, approved or rejected")
		}, run: func(c *opCmd) error {
			q := orgs.ApplicationQuery{Status: store.ApplicationStatus(*status)}
			if *org != "" {
				o, err := c.svc.Organization(c.ctx, *org)
				if err != nil {
					return err
				}
				q.OrgID = o.ID
			}
			as, err := c.svc.ListApplications(c.ctx, cliActor, q)
			if err != nil {
				return err
			}
			out := make([]applicationJSON, 0, len(as))
			for _, a := range as {
				out = append(out, c.applicationOut(a))
			}
			return c.emit(out, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tORG\tSERVICE\tSTATUS\tCREATED")
				for _, a := range out {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Org, a.Service, a.Status, tsText(a.CreatedAt))
				}
			})
		}},
		"show": {args: []string{"ID"}, run: func(c *opCmd) error {
			a, err := c.svc.GetApplication(c.ctx, cliActor, c.args[0])
			if err != nil {
				return err
			}
			return c.showApplication(a)
		}},
		"approve": {args: []string{"ID"}, run: func(c *opCmd) error {
			a, err := c.svc.ApproveApplication(c.ctx, cliActor, c.args[0])
			if err != nil {
				return err
			}
			return c.showApplication(a)
		}},
		"reject": {args: []string{"ID"}, flags: func(fs *flag.FlagSet) {
			reason = fs.String("reason", "", "why (mailed to the applicant; required)")
		}, run: func(c *opCmd) error {
			a, err := c.svc.RejectApplication(c.ctx, cliActor, c.args[0], *reason)
			if err != nil {
				return err
			}
			return c.showApplication(a)
		}},
	}
	return runOperations(ctx, "applications", ops, applicationsOrder, args, stdout, stderr)
}

var invitationsOrder = []string{"list", "show", "create", "resend", "cancel"}

// cmdInvitations is `hubid invitations ...`.
func cmdInvitations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var pending *bool
	var lang *string
	showInv := func(c *opCmd, i orgs.Invitation) error {
		return c.emit(i, func(w io.Writer) {
			fmt.Fprintf(w, "id\t%s\nemail\t%s\nrole\t%s\nstatus\t%s\nexpires\t%s\n", i.ID, i.Email, i.Role, i.Status, tsText(i.ExpiresAt))
		})
	}
	withOrg := func(run func(c *opCmd, o store.Organization) error) func(c *opCmd) error {
		return func(c *opCmd) error {
			o, err := c.svc.Organization(c.ctx, c.args[0])
			if err != nil {
				return err
			}
			return run(c, o)
		}
	}
	ops := map[string]operation{
		"list": {args: []string{"ORG"}, flags: func(fs *flag.FlagSet) {
			pending = fs.Bool("pending", false, "only invitations that can still be accepted")
		}, run: withOrg(func(c *opCmd, o store.Organization) error {
			is, err := c.svc.ListInvitations(c.ctx, cliActor, o.ID, *pending)
			if err != nil {
				return err
			}
			if is == nil {
				is = []orgs.Invitation{}
			}
			return c.emit(is, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tEMAIL\tROLE\tSTATUS\tEXPIRES")
				for _, i := range is {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", i.ID, i.Email, i.Role, i.Status, tsText(i.ExpiresAt))
				}
			})
		})},
		"show": {args: []string{"ORG", "ID"}, run: withOrg(func(c *opCmd, o store.Organization) error {
			i, err := c.svc.GetInvitation(c.ctx, cliActor, o.ID, c.args[1])
			if err != nil {
				return err
			}
			return showInv(c, i)
		})},
		"create": {args: []string{"ORG", "EMAIL", "ROLE"}, flags: func(fs *flag.FlagSet) {
			lang = fs.String("lang", "", "language of the mail (en or ja) when the address has no account")
		}, run: withOrg(func(c *opCmd, o store.Organization) error {
			role, err := orgs.ParseRole(c.args[2])
			if err != nil {
				return err
			}
			i, err := c.svc.Invite(c.ctx, cliActor, o.ID, c.args[1], role, *lang)
			if err != nil {
				return err
			}
			return showInv(c, i)
		})},
		"resend": {args: []string{"ORG", "ID"}, run: withOrg(func(c *opCmd, o store.Organization) error {
			i, err := c.svc.ResendInvitation(c.ctx, cliActor, o.ID, c.args[1], "")
			if err != nil {
				return err
			}
			return showInv(c, i)
		})},
		"cancel": {args: []string{"ORG", "ID"}, run: withOrg(func(c *opCmd, o store.Organization) error {
			i, err := c.svc.CancelInvitation(c.ctx, cliActor, o.ID, c.args[1])
			if err != nil {
				return err
			}
			return showInv(c, i)
		})},
	}
	return runOperations(ctx, "invitations", ops, invitationsOrder, args, stdout, stderr)
}
