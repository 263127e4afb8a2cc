package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/mfa"
	"github.com/customerhub/hubid/store"
)

// mfaCommand returns the two-step verification commands of the operator:
// hubid users reset-mfa EMAIL, hubid orgs require-mfa CODE on|off.
func mfaCommand(args []string) (func(ctx context.Context, args []string, stdout, stderr io.Writer) error, bool) {
	if len(args) < 2 {
		return nil, false
	}
	switch args[0] + " " + args[1] {
	case "users reset-mfa":
		return cmdResetMFA, true
	case "orgs require-mfa":
		return cmdRequireMFA, true
	}
	return nil, false
}

// twoStepService is mfa.Service over the deployment's stores, mailing in
// the account's language through the outbox (sent by the running hubid).
func twoStepService(e *env) (*mfa.Service, error) {
	bundle, err := i18n.New(mail.Messages)
	if err != nil {
		return nil, err
	}
	composer, err := mail.NewComposer(bundle, e.cfg.Helpdesk.Email)
	if err != nil {
		return nil, err
	}
	return mfa.NewService(mfa.Config{
		Store: e.durable, Steps: e.ephemeral, Sealer: e.keyring,
		Notify: func(ctx context.Context, tx store.Durable, u store.User) error {
			m, err := composer.Compose(mail.KindMFARemoved, bundle.Match(u.Locale), u.Email, mail.NameData{Name: u.Name})
			if err != nil {
				return err
			}
			return mail.Enqueue(ctx, tx, m)
		},
	})
}

// openTwoStep parses a command's flags and nargs arguments and opens the
// deployment and the service; the caller closes e.
func openTwoStep(ctx context.Context, name string, args []string, stderr io.Writer, nargs int, argUsage string) (*env, *mfa.Service, *flag.FlagSet, error) {
	fs := newFlags(name, stderr)
	sf := addStoreFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, nil, err
	}
	if fs.NArg() != nargs {
		return nil, nil, nil, fmt.Errorf("%w: hubid %s --config FILE | --data DIR %s", errUsage, name, argUsage)
	}
	e, err := sf.open(ctx, false)
	if err != nil {
		return nil, nil, nil, err
	}
	svc, err := twoStepService(e)
	if err != nil {
		e.close()
		return nil, nil, nil, err
	}
	return e, svc, fs, nil
}

func cmdResetMFA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e, svc, fs, err := openTwoStep(ctx, "users reset-mfa", args, stderr, 1, "EMAIL")
	if err != nil {
		return err
	}
	defer e.close()
	u, err := e.durable.GetUserByEmail(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("user %s: %w", fs.Arg(0), err)
	}
	if err := svc.Reset(ctx, u.ID, mfa.Meta{Operator: true}); err != nil {
		return fmt.Errorf("reset two-step verification of %s: %w", u.Email, err)
	}
	fmt.Fprintf(stdout, "two-step verification of %s removed; they were mailed, and their next sign-in offers setup\n", u.Email)
	return nil
}

func cmdRequireMFA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e, svc, fs, err := openTwoStep(ctx, "orgs require-mfa", args, stderr, 2, "CODE on|off")
	if err != nil {
		return err
	}
	defer e.close()
	if fs.Arg(1) != "on" && fs.Arg(1) != "off" {
		return fmt.Errorf("%w: hubid orgs require-mfa --config FILE | --data DIR CODE on|off", errUsage)
	}
	o, err := e.durable.GetOrganizationByCode(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("organization %s: %w", fs.Arg(0), err)
	}
	on := fs.Arg(1) == "on"
	if err := svc.SetOrgRequired(ctx, o.ID, on, mfa.Meta{Operator: true}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "organization %s: two-step verification required = %v\n", o.Code, on)
	return nil
}
