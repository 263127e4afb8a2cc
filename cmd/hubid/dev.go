package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/customerhub/hubid/demo"
	devseed "github.com/customerhub/hubid/deploy/dev"
	"github.com/customerhub/hubid/idp/seed"
)

func cmdDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev", stderr)
	dir := fs.String("data", ".hubid", "data directory (SQLite database, KEK, mail)")
	listen := fs.String("listen", "localhost:8080", "listen address; the issuer follows it")
	demos := fs.Bool("demo", true, "serve the demo services of the seed's clients on their home URLs (localhost:9001, :9002)")
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
	// The seed's passwords were just hashed in parallel; hand their
	// argon2id buffers back to the OS rather than idle with them. Two
	// collections: the password package keeps idle buffers until the
	// second (sync.Pool), FreeOSMemory then returns the pages.
	runtime.GC()
	debug.FreeOSMemory()
	var demoLines []string
	if *demos {
		demoLines = startDemos(ctx, c.Issuer, f, stderr)
	}
	return serveEnv(ctx, e, serveHooks{ready: func(ls listeners) {
		fmt.Fprintf(stdout, `
hubid dev is running (data in %s; seed: %s)

  Hub:        %s/   (sign in, account settings, usage history)
  Issuer:     %s
  Discovery:  %s/.well-known/openid-configuration
  Keys:       %s/keys

Demo accounts (password for all: %s):
`, *dir, sum, c.Issuer, c.Issuer, c.Issuer, c.Issuer, devseed.DemoPassword)
		for _, u := range f.Users {
			fmt.Fprintf(stdout, "  %-28s %s\n", u.Email, u.Describe(f))
		}
		if len(demoLines) > 0 {
			fmt.Fprintln(stdout, "\nDemo services (sign in on one, then open the other: no password asked):")
			for _, l := range demoLines {
				fmt.Fprintln(stdout, "  "+l)
			}
		}
		fmt.Fprintf(stdout, "\nMail sent by hubid (reset and verification links): %s/dev/mail/\n", c.Issuer)
		fmt.Fprintln(stdout, "\nStop with Ctrl-C.")
	}})
}

// startDemos serves a demo relying party for each seed client whose home
// URL is a loopback http URL, until ctx ends. A port already in use (a
// second `hubid dev`) is skipped with a warning.
func startDemos(ctx context.Context, issuer string, f *seed.File, stderr io.Writer) []string {
	var homes []string
	for _, c := range f.Clients {
		if strings.HasPrefix(c.HomeURL, "http://localhost:") && c.Secret != "" {
			homes = append(homes, strings.TrimSuffix(c.HomeURL, "/"))
		}
	}
	var lines []string
	i := 0
	for _, c := range f.Clients {
		if !strings.HasPrefix(c.HomeURL, "http://localhost:") || c.Secret == "" {
			continue
		}
		base := strings.TrimSuffix(c.HomeURL, "/")
		other := homes[(i+1)%len(homes)] + "/"
		i++
		app, err := demo.New(ctx, demo.Config{Name: c.Name, Issuer: issuer, ClientID: c.ID, ClientSecret: c.Secret,
			BaseURL: base, OtherURL: other, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			fmt.Fprintf(stderr, "demo %s: %v\n", c.ID, err)
			continue
		}
		l, err := net.Listen("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			fmt.Fprintf(stderr, "demo %s not started: %v\n", c.ID, err)
			continue
		}
		srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		lines = append(lines, fmt.Sprintf("%-18s %s/", c.Name, base))
	}
	return lines
}
