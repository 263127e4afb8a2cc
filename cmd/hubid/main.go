// Command hubid is the one binary of the hubid OpenID Connect provider:
// serve, dev, migrate, seed, config, keys, legacy, the operator commands
// (orgs, users, services, clients, applications, invitations) and version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/password"
)

// version and commit are set at build time with -ldflags "-X
// main.version=... -X main.commit=..." (make build, make image).
var (
	version = "dev"
	commit  = "unknown"
)

const usage = `hubid — OpenID Connect provider for the Customer Hub

Usage:
  hubid serve --config FILE          run against PostgreSQL + Redis
  hubid dev [--data DIR] [--listen HOST:PORT]
                                     run with embedded storage and demo data
  hubid migrate up|status --config FILE
  hubid seed apply --config FILE SEEDFILE
  hubid config check FILE
  hubid keys list|rotate [--force]|retire KID --now|reseal  --config FILE
  hubid users reset-mfa --config FILE | --data DIR  EMAIL
  hubid orgs require-mfa --config FILE | --data DIR  CODE on|off
  hubid orgs list|show|create|update|delete|members|entitle|unentitle|history
  hubid users list|show|create|update|delete|add-membership|set-role|remove-membership
  hubid services list|show|create|update|delete
  hubid clients list|show|create|update|rotate-secret|delete
  hubid applications list|show|approve|reject
  hubid invitations list|show|create|resend|cancel
                                     operator commands (--output json for scripts)
  hubid legacy import --service CODE [--dry-run] [--skip-bad] FILE.csv
  hubid legacy report [--service CODE] [--format table|csv|json]
  hubid legacy link --service CODE --login-id ID --email EMAIL
  hubid legacy unlink --service CODE --email EMAIL
  hubid version

Every command that takes --config also accepts --data DIR instead, to act
on a "hubid dev" data directory.
`

// errUsage marks errors caused by the command line (exit 2).
var errUsage = errors.New("usage")

// defaultGCPercent is the garbage collector's target unless GOGC is set.
// hubid's live heap is small (10–20 MB under token traffic), so with Go's
// default of 100 it collects, and returns memory to the OS, after every
// few hundred requests; 400 lets the heap grow to five times what is
// live, which cut the CPU of ES256 token requests by 15–35 % and of
// userinfo by about 10 % (docs/benchmarks.md).
const defaultGCPercent = 400

// defaultMemoryLimit is the soft memory limit unless GOMEMLIMIT is set:
// 48 MiB plus, per CPU hubid may use, the memory of one argon2id hash
// (hashKiB) and 8 MiB: 102 MiB on 2 CPUs with the default 19 MiB hashes.
// It is the working point under a storm of sign-ins: each CPU runs at most
// one hash at a time, whose buffer the password package reuses, so the
// live heap is about 15 MB plus one buffer per CPU, and the limit, not
// GOGC's five times that, decides when to collect; without it, 32
// concurrent sign-ins on 2 CPUs peaked at 200+ MB RSS. Token traffic
// (live heap 10–20 MB) stays under the limit and keeps GOGC's cheaper
// collections. The binary's own pages (≈ 30 MB) come on top of the limit
// in RSS.
func defaultMemoryLimit(procs int, hashKiB uint32) int64 {
	return 48<<20 + int64(procs)*(int64(hashKiB)<<10+8<<20)
}

// runtimeDefaults applies defaultGCPercent and defaultMemoryLimit (for
// argon2id hashes of hashKiB) unless the environment (lookup) sets GOGC or
// GOMEMLIMIT.
func runtimeDefaults(lookup func(string) (string, bool), hashKiB uint32) {
	if _, set := lookup("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := lookup("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit(runtime.GOMAXPROCS(0), hashKiB))
	}
}

// raiseMemoryLimit raises the soft memory limit to defaultMemoryLimit for
// hashes of hashKiB (the configured password.memory_kib) unless GOMEMLIMIT
// is set. main sets the limit for the default parameters before the config
// is read; larger hashes need more room, or the collector would run
// without pause. It never lowers the limit (nor sets one where main did
// not, as in tests).
func raiseMemoryLimit(lookup func(string) (string, bool), hashKiB uint32) {
	if _, set := lookup("GOMEMLIMIT"); set {
		return
	}
	if want := defaultMemoryLimit(runtime.GOMAXPROCS(0), hashKiB); want > debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(want)
	}
}

func main() {
	runtimeDefaults(os.LookupEnv, password.DefaultParams().Memory)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if cmd, ok := mfaCommand(args); ok {
		// hubid users reset-mfa, hubid orgs require-mfa (mfa.go)
		return exitCode(cmd(ctx, args[2:], stdout, stderr), stderr)
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "dev":
		err = cmdDev(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr)
	case "seed":
		err = cmdSeed(ctx, args[1:], stdout, stderr)
	case "config":
		err = cmdConfig(args[1:], stdout, stderr)
	case "keys":
		err = cmdKeys(ctx, args[1:], stdout, stderr)
	case "orgs":
		err = cmdOrgs(ctx, args[1:], stdout, stderr)
	case "users":
		err = cmdUsers(ctx, args[1:], stdout, stderr)
	case "services":
		err = cmdServices(ctx, args[1:], stdout, stderr)
	case "clients":
		err = cmdClients(ctx, args[1:], stdout, stderr)
	case "applications":
		err = cmdApplications(ctx, args[1:], stdout, stderr)
	case "invitations":
		err = cmdInvitations(ctx, args[1:], stdout, stderr)
	case "legacy":
		err = cmdLegacy(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "hubid %s commit %s %s rsa-signer %s\n", version, commit, runtime.Version(), rsaSignerName())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	return exitCode(err, stderr)
}

// exitCode reports err and returns the process's exit status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errBadInput) || apperr.CodeOf(err) != apperr.Internal {
		// Operator commands: one line, exit 2 for bad input.
		msg, code := cliError(err)
		fmt.Fprintln(stderr, "hubid:", msg)
		return code
	}
	fmt.Fprintln(stderr, "hubid:", err)
	if errors.Is(err, errUsage) {
		fmt.Fprint(stderr, "\n"+usage)
		return 2
	}
	return 1
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
