package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/orgs"
)

// The operator commands (orgs, users, services, clients, applications,
// invitations) call the organizations service (package orgs) and
// idp/clients directly on the store a --config or --data selects, as the
// operator "cli"; nothing goes over HTTP. Mail they cause (invitations,
// decisions on applications) is queued in the outbox and delivered by a
// running hubid.

// errBadInput marks a command line that names no valid operation or
// arguments: one line on stderr, exit 2 (apperr.Invalid from the service
// too).
var errBadInput = errors.New("bad input")

// badInput is an errBadInput with a message.
func badInput(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadInput, fmt.Sprintf(format, a...))
}

// cliActor is the actor of every operator command in the audit log.
var cliActor = orgs.Operator("cli")

// opCmd is one operator command being run.
type opCmd struct {
	ctx    context.Context
	out    io.Writer
	json   bool
	env    *env
	svc    *orgs.Service
	args   []string // positional arguments after the subcommand
	now    func() time.Time
	random io.Reader
}

// opFlags are a subcommand's flags: --config/--data, --output and its
// own, which may come before or after the positional arguments.
type opFlags struct {
	fs     *flag.FlagSet
	store  storeFlags
	output *string
}

func newOpFlags(name string, stderr io.Writer) opFlags {
	fs := newFlags(name, stderr)
	return opFlags{fs: fs, store: addStoreFlags(fs), output: fs.String("output", "text", "text or json")}
}

// parse parses args (flags anywhere) and checks the count of positional
// arguments against want (the names shown in the error).
func (f opFlags) parse(args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, badInput("%s: %v", f.fs.Name(), err)
		}
		if f.fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, f.fs.Arg(0)), f.fs.Args()[1:]
	}
	if len(pos) != len(want) {
		usage := f.fs.Name()
		for _, w := range want {
			usage += " " + w
		}
		return nil, badInput("usage: hubid %s", usage)
	}
	if *f.output != "text" && *f.output != "json" {
		return nil, badInput("--output must be text or json")
	}
	if *f.store.config == "" && *f.store.data == "" {
		return nil, badInput("%s: give --config FILE or --data DIR", f.fs.Name())
	}
	return pos, nil
}

// open opens the store and builds the service.
func (f opFlags) open(ctx context.Context, out io.Writer, pos []string) (*opCmd, error) {
	e, err := f.store.open(ctx, false)
	if err != nil {
		return nil, err
	}
	bundle, err := i18n.New(mail.Messages)
	if err != nil {
		e.close()
		return nil, err
	}
	c := e.cfg
	composer, err := mail.NewComposer(bundle, web.Helpdesk{Email: c.Helpdesk.Email, Phone: c.Helpdesk.Phone, URL: c.Helpdesk.URL}.String())
	if err != nil {
		e.close()
		return nil, err
	}
	svc, err := orgs.New(orgs.Deps{Store: e.durable, Mailer: mail.OrgMailer{Composer: composer},
		Policy: pwpolicy.Policy{MinLength: c.Password.MinLength}, Hasher: e.hasher, BaseURL: c.Issuer,
		Now: time.Now, Rand: rand.Reader})
	if err != nil {
		e.close()
		return nil, err
	}
	return &opCmd{ctx: ctx, out: out, json: *f.output == "json", env: e, svc: svc, args: pos,
		now: time.Now, random: rand.Reader}, nil
}

// operation is one subcommand: its positional arguments, extra flags and
// what it does.
type operation struct {
	args  []string
	flags func(fs *flag.FlagSet) // adds the subcommand's own flags
	run   func(c *opCmd) error
}

// runOperations dispatches `hubid NOUN VERB ...` to ops[VERB].
func runOperations(ctx context.Context, noun string, ops map[string]operation, order []string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return badInput("usage: hubid %s %s", noun, strings.Join(order, "|"))
	}
	op, ok := ops[args[0]]
	if !ok {
		return badInput("hubid %s: unknown subcommand %q (want %s)", noun, args[0], strings.Join(order, "|"))
	}
	f := newOpFlags(noun+" "+args[0], stderr)
	if op.flags != nil {
		op.flags(f.fs)
	}
	pos, err := f.parse(args[1:], op.args...)
	if err != nil {
		return err
	}
	c, err := f.open(ctx, stdout, pos)
	if err != nil {
		return err
	}
	defer c.env.close()
	return op.run(c)
}

// emit writes v as JSON, or calls text for the text form.
func (c *opCmd) emit(v any, text func(w io.Writer)) error {
	if c.json {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

// done reports a change without data to show.
func (c *opCmd) done(what string) error {
	return c.emit(map[string]string{"result": what}, func(w io.Writer) { fmt.Fprintln(w, what) })
}

// cliError is the one line printed for a failed operator command, and
// its exit code: 2 for bad input, 1 otherwise.
func cliError(err error) (string, int) {
	code := 1
	if errors.Is(err, errBadInput) || apperr.CodeOf(err) == apperr.Invalid {
		code = 2
	}
	msg := err.Error()
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code != apperr.Internal {
		msg = ae.Message
	} else if errors.Is(err, errBadInput) {
		msg = strings.TrimPrefix(msg, errBadInput.Error()+": ")
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " "), code
}

// tsText formats a time for text output ("-" when zero).
func tsText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
