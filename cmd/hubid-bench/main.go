// Command hubid-bench is hubid's load generator. It builds hubid, gives it
// a fresh PostgreSQL schema and Redis key prefix, seeds a client and users,
// starts `hubid serve` as a child process and drives each scenario
// (discovery, JWKS, client_credentials, refresh, refresh for clients with
// refresh_id_token false and ES256 access tokens, the full browser
// sign-in, userinfo, introspection) for a fixed time at 1 and 32 connections. It
// measures throughput, client-side latency, errors and — the figure that
// matters on a small machine where the generator competes for CPU —
// requests per CPU-second of the hubid process, read from /proc. It then
// repeats the signing-bound scenarios with ES256 and prints a Markdown
// report (optionally written into docs/benchmarks.md).
//
//	go run ./cmd/hubid-bench [-d 5s] [-o docs/benchmarks.md]
//	go run ./cmd/hubid-bench seed -key K [-users N -orgs N -sessions N -families N] (see seed.go)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	duration   time.Duration
	conns      []int
	scenarios  map[string]bool // nil: all
	skipES256  bool
	out        string
	hubidBin   string
	tags       string // build tags of ./cmd/hubid (openssl: cgo on)
	postgres   string
	redis      string
	redisDB    int
	port       int // hubid's HTTP port (metrics: port+1); 0 = free ports
	users      int
	perfDir    string
	pprofDir   string
	keepLogs   bool
	idleSettle time.Duration
	cpus       string // taskset CPU list hubid is pinned to; "" = not pinned
	// touchInterval is hubid's sessions.touch_interval ("" = its default).
	touchInterval string
	dev           bool
	// A store seeded by `hubid-bench seed`: schema, prefix, key and
	// number of seeded sessions (users is the number of seeded users;
	// redisDB the seeded database).
	schema, prefix, key string
	sessions            int
	// rate: the open-loop rate search (rate.go) when rate.step > 0.
	rate rateOptions
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("hubid-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{}
	fs.DurationVar(&o.duration, "d", 5*time.Second, "duration of each run (one scenario at one connection count)")
	conns := fs.String("c", "1,32", "connection counts, comma-separated")
	only := fs.String("only", "", "run only these scenarios (comma-separated: "+strings.Join(scenarioNames(), ",")+")")
	fs.BoolVar(&o.skipES256, "no-es256", false, "skip the second pass with ES256 signing keys")
	fs.StringVar(&o.out, "o", "", "write the report into this Markdown file (between its hubid-bench markers)")
	fs.StringVar(&o.hubidBin, "hubid", "", "use this hubid binary instead of building ./cmd/hubid")
	fs.StringVar(&o.tags, "tags", "", "build ./cmd/hubid with these build tags (openssl: RS256 signed by OpenSSL, built with cgo; then build hubid-bench with -tags openssl too, so the crypto bound is OpenSSL's)")
	fs.StringVar(&o.postgres, "postgres", envOr("HUBID_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL DSN (a fresh schema is created in it and dropped at the end)")
	fs.StringVar(&o.redis, "redis", envOr("HUBID_TEST_REDIS", "127.0.0.1:6379"), "Redis address (a fresh key prefix is used and deleted at the end)")
	fs.IntVar(&o.redisDB, "redis-db", 0, "Redis database number hubid and the cleanup use (with -schema: the seeded one)")
	fs.IntVar(&o.port, "port", 0, "hubid's HTTP port, the metrics listener on the next one (default: free ports)")
	fs.IntVar(&o.users, "users", 100, "number of seeded users the sign-in scenario cycles through")
	fs.StringVar(&o.perfDir, "perf", "", "record `perf record -g` of hubid during every run with the most connections into this directory")
	fs.StringVar(&o.pprofDir, "pprof", "", "save a Go CPU profile of hubid (from /debug/pprof on its internal listener) during every run with the most connections into this directory")
	fs.StringVar(&o.touchInterval, "touch-interval", "", "hubid's sessions.touch_interval (default: hubid's, 1m); 0s slides a session at every request, so that SSO on the empty store (8 sessions reused) writes the session as a store of many people's sessions does (docs/benchmarks.md, At scale)")
	fs.StringVar(&o.cpus, "cpus", "", "pin hubid to these CPUs with `taskset -c` (e.g. 1); the generator, PostgreSQL and Redis stay unpinned")
	fs.BoolVar(&o.keepLogs, "keep", false, "keep the temporary directory (config, seed, hubid logs)")
	fs.DurationVar(&o.idleSettle, "idle", 2*time.Second, "idle time after start-up before the idle RSS is read")
	fs.BoolVar(&o.dev, "dev", false, "measure `hubid dev` (SQLite + memory, RS256 only; no -o, -pprof) instead of hubid serve on PostgreSQL + Redis")
	fs.StringVar(&o.schema, "schema", "", "run against this schema seeded by `hubid-bench seed` (kept; -users is then the number of seeded users)")
	fs.StringVar(&o.prefix, "prefix", "hubidbench:", "with -schema: the seeded Redis key prefix")
	fs.StringVar(&o.key, "key", "", "with -schema: the seed's -key (session cookies, KEK)")
	fs.IntVar(&o.sessions, "sessions", 0, "with -schema: the number of seeded sessions the SSO scenario picks from (default -users)")
	fs.Float64Var(&o.rate.step, "rate-step", 0, "instead of the scenarios: open-loop rate search, stepping the rate by this many requests a second (see rate.go)")
	fs.Float64Var(&o.rate.start, "rate-start", 0, "first rate of the search (default -rate-step)")
	fs.Float64Var(&o.rate.max, "rate-max", 5000, "last rate of the search")
	fs.DurationVar(&o.rate.hold, "rate-hold", 2*time.Minute, "how long each rate is held")
	fs.DurationVar(&o.rate.p99, "rate-p99", 200*time.Millisecond, "a rate is held when p99 latency stays below this with no error")
	modes := fs.String("rate-modes", "refresh,mix", "what the search sends: refresh, mix (sign-ins, refreshes, userinfo) or both")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.rate.step > 0 {
		if o.rate.start <= 0 {
			o.rate.start = o.rate.step
		}
		for _, m := range strings.Split(*modes, ",") {
			if m = strings.TrimSpace(m); modeTitles[m] == "" {
				return o, errNoModes
			}
			o.rate.modes = append(o.rate.modes, m)
		}
		o.skipES256 = true
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.schema != "" && o.key == "" {
		return o, errors.New("-schema needs the seed's -key")
	}
	if o.sessions == 0 {
		o.sessions = o.users
	}
	var err error
	if o.conns, err = parseInts(*conns); err != nil {
		return o, fmt.Errorf("-c: %w", err)
	}
	if *only != "" {
		o.scenarios = map[string]bool{}
		known := map[string]bool{}
		for _, n := range scenarioNames() {
			known[n] = true
		}
		for _, n := range strings.Split(*only, ",") {
			n = strings.TrimSpace(n)
			if !known[n] {
				return o, fmt.Errorf("-only: unknown scenario %q", n)
			}
			o.scenarios[n] = true
		}
	}
	if o.dev && (o.out != "" || o.pprofDir != "") {
		return o, errors.New("-dev: the report is printed only (no -o), and hubid dev has no /debug/pprof (no -pprof)")
	}
	if o.duration <= 0 || o.users < 1 {
		return o, errors.New("-d and -users must be positive")
	}
	return o, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &n); err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		so, err := parseSeedOptions(os.Args[2:], os.Stderr)
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		if err == nil {
			err = runSeed(ctx, so, os.Stdout, os.Stderr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "hubid-bench seed:", err)
			os.Exit(1)
		}
		return
	}
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hubid-bench:", err)
		os.Exit(2)
	}
	rep, err := bench(ctx, o, os.Stderr)
	if rep != nil && o.rate.step > 0 {
		var searches []rateSearch
		if len(rep.passes) > 0 {
			searches = rep.passes[0].rates
		}
		fmt.Print(ratesMarkdown(o.rate, rep, searches))
		if err != nil {
			fmt.Fprintln(os.Stderr, "hubid-bench:", err)
			os.Exit(1)
		}
		return
	}
	if rep != nil {
		md := rep.Markdown()
		fmt.Print(md)
		if o.out != "" && err == nil {
			if werr := writeReport(o.out, md); werr != nil {
				fmt.Fprintln(os.Stderr, "hubid-bench:", werr)
				os.Exit(1)
			}
			fmt.Fprintln(os.Stderr, "hubid-bench: report written to", o.out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hubid-bench:", err)
		os.Exit(1)
	}
	if rep.Errors() > 0 {
		fmt.Fprintf(os.Stderr, "hubid-bench: %d requests failed\n", rep.Errors())
		os.Exit(1)
	}
}
