package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/idp/seed"
)

// storeFlags are the flags that select a deployment: a config file (serve)
// or a dev data directory.
type storeFlags struct{ config, data *string }

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		config: fs.String("config", "", "configuration file (PostgreSQL + Redis)"),
		data:   fs.String("data", "", "a `hubid dev` data directory instead of --config"),
	}
}

func (f storeFlags) open(ctx context.Context, migrate bool) (*env, error) {
	switch {
	case *f.config != "" && *f.data != "":
		return nil, fmt.Errorf("%w: use --config or --data, not both", errUsage)
	case *f.data != "":
		c, err := devConfig("localhost:8080")
		if err != nil {
			return nil, err
		}
		return openDev(ctx, c, *f.data)
	}
	c, err := loadServeConfig(*f.config)
	if err != nil {
		return nil, err
	}
	return openServe(ctx, c, migrate)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		return fmt.Errorf("%w: hubid migrate up|status --config FILE", errUsage)
	}
	fs := newFlags("migrate "+args[0], stderr)
	sf := addStoreFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	e, err := sf.open(ctx, false)
	if err != nil {
		return err
	}
	defer e.close()
	if args[0] == "up" {
		if err := e.migrator.Migrate(ctx); err != nil {
			return err
		}
	}
	st, err := e.migrator.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	for _, m := range st {
		applied := "pending"
		if !m.AppliedAt.IsZero() {
			applied = m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", m.Version, m.Name, applied)
	}
	return tw.Flush()
}

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "apply" {
		return fmt.Errorf("%w: hubid seed apply --config FILE SEEDFILE", errUsage)
	}
	fs := newFlags("seed apply", stderr)
	sf := addStoreFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: seed apply needs exactly one SEEDFILE", errUsage)
	}
	name := fs.Arg(0)
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	f, err := seed.Parse(data, name)
	if err != nil {
		return err
	}
	e, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer e.close()
	sum, err := seed.Apply(ctx, e.durable, f, seed.Options{Hasher: e.hasher, Now: time.Now, Rand: rand.Reader})
	if err != nil {
		return fmt.Errorf("%s: nothing applied: %w", name, err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", name, sum)
	return nil
}

func cmdConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return fmt.Errorf("%w: hubid config check FILE", errUsage)
	}
	c, err := config.LoadServe(args[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (issuer %s)\n", args[1], c.Issuer)
	return nil
}

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: hubid keys list|rotate|retire|reseal", errUsage)
	}
	sub := args[0]
	fs := newFlags("keys "+sub, stderr)
	sf := addStoreFlags(fs)
	force := fs.Bool("force", false, "rotate: activate the next key even if it was published too briefly")
	now := fs.Bool("now", false, "retire: remove the key from the key set at once (emergency)")
	// Flags may come before or after the KID (retire KID --now).
	var positional []string
	rest := args[1:]
	for {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional, rest = append(positional, fs.Arg(0)), fs.Args()[1:]
	}
	e, err := sf.open(ctx, false)
	if err != nil {
		return err
	}
	defer e.close()
	c := e.cfg
	log := newLogger(c, os.Stderr)
	ctx = keys.WithActor(ctx, "cli")
	bus, _ := e.ephemeral.(keys.Bus)
	km := keys.New(keys.Config{
		Logger:   log,
		OnChange: keys.AuditTo(e.durable, log),
		// Running replicas reload at once (Redis pub/sub), not at their
		// next poll.
		Announce:   keys.AnnounceOn(bus),
		Algorithms: c.Keys.Algorithms, SigningAlgorithm: c.Tokens.IDTokenSigningAlgorithm, RSABits: c.Keys.RSABits,
		Policy: keys.Policy{
			RotationPeriod: c.Keys.RotationPeriod.D(), PublishBefore: c.Keys.PublishBefore.D(),
			RetireFor: max(c.Tokens.AccessTTL.D(), c.Tokens.IDTokenTTL.D()) + c.Keys.ClockSkew.D(),
		},
		Now: time.Now, Rand: rand.Reader,
	}, e.durable, e.keyring)
	switch sub {
	case "list":
		ks, err := km.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATED\tRETIRED\tREMOVAL DUE")
		for _, k := range ks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State,
				ts(k.CreatedAt), ts(k.ActivatedAt), ts(k.RetiredAt), ts(k.RemoveAfter))
		}
		return tw.Flush()
	case "rotate":
		if *force {
			fmt.Fprintln(stderr, "warning: --force activates the next key now; services that cached the key set before it was published will fail to verify new tokens until they refetch /keys")
		}
		evs, err := km.Rotate(ctx, *force)
		if err != nil {
			return err
		}
		printEvents(stdout, evs)
		return nil
	case "reseal":
		n, err := km.Reseal(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "resealed %d signing key(s) under KEK %s\n", n, e.keyring.PrimaryID())
		return nil
	case "retire":
		if len(positional) != 1 || !*now {
			return fmt.Errorf("%w: hubid keys retire KID --now (emergency: tokens signed by KID stop verifying at once)", errUsage)
		}
		evs, err := km.RetireNow(ctx, positional[0])
		if err != nil {
			return err
		}
		printEvents(stdout, evs)
		return nil
	}
	return fmt.Errorf("%w: unknown keys command %q", errUsage, sub)
}

func printEvents(w io.Writer, evs []keys.Event) {
	for _, e := range evs {
		from, to := e.From, e.To
		if from == "" {
			from = "(new)"
		}
		if to == "" {
			to = "(removed)"
		}
		fmt.Fprintf(w, "%s %s: %s -> %s\n", e.Algorithm, e.KID, from, to)
	}
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
