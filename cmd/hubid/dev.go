package main

import (
	"context"
	"fmt"
	"io"

	devseed "github.com/customerhub/hubid/deploy/dev"
	"github.com/customerhub/hubid/idp/seed"
)

func cmdDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev", stderr)
	dir := fs.String("data", ".hubid", "data directory (SQLite database, KEK, mail)")
	listen := fs.String("listen", "localhost:8080", "listen address; the issuer follows it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	c, err := devConfig(*listen)
	if err != nil {
		return err
	}
	e, err := openDev(ctx, c, *dir)
	if err != nil {
		return err
	}
	defer e.close()
	f, err := seed.Parse(devseed.File, "deploy/dev/seed.yaml")
	if err != nil {
		return err
	}
	sum, err := seed.Apply(ctx, e.durable, f, seed.Options{Hasher: e.hasher})
	if err != nil {
		return fmt.Errorf("apply dev seed: %w", err)
	}
	return serveEnv(ctx, e, func(ls listeners) {
		fmt.Fprintf(stdout, `
hubid dev is running (data in %s; seed: %s)

  Issuer:     %s
  Discovery:  %s/.well-known/openid-configuration
  Keys:       %s/keys

Demo accounts (password for all: %s):
`, *dir, sum, c.Issuer, c.Issuer, c.Issuer, devseed.DemoPassword)
		for _, u := range f.Users {
			fmt.Fprintf(stdout, "  %-28s %s\n", u.Email, u.Describe(f))
		}
		fmt.Fprintln(stdout, "\nStop with Ctrl-C.")
	})
}
