package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/store"
)

const legacyUsage = `hubid legacy import --service CODE [--dry-run] [--skip-bad] FILE.csv
  hubid legacy report [--service CODE] [--format table|csv|json]
  hubid legacy link --service CODE --login-id ID --email EMAIL
  hubid legacy unlink --service CODE --email EMAIL
  (each with --config FILE or --data DIR)`

// cmdLegacy is the operator's side of the move from shared login IDs:
// a thin adapter over package legacy.
func cmdLegacy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, legacyUsage)
	}
	fs := newFlags("legacy "+args[0], stderr)
	sf := addStoreFlags(fs)
	service := fs.String("service", "", "service code, e.g. nk-ships")
	var dryRun, skipBad *bool
	var format, loginID, email *string
	switch args[0] {
	case "import":
		dryRun = fs.Bool("dry-run", false, "report what would change, change nothing")
		skipBad = fs.Bool("skip-bad", false, "import the good lines of a file with bad ones")
	case "report":
		format = fs.String("format", "table", "table, csv or json")
	case "link":
		loginID = fs.String("login-id", "", "the legacy login ID")
		email = fs.String("email", "", "the person's account email")
	case "unlink":
		email = fs.String("email", "", "the person's account email")
	default:
		return fmt.Errorf("%w: unknown legacy command %q: %s", errUsage, args[0], legacyUsage)
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if args[0] != "report" && *service == "" {
		return fmt.Errorf("%w: --service is required", errUsage)
	}
	if args[0] == "import" && fs.NArg() != 1 {
		return fmt.Errorf("%w: legacy import needs exactly one FILE.csv", errUsage)
	}
	if args[0] != "import" && fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if format != nil && *format != "table" && *format != "csv" && *format != "json" {
		return fmt.Errorf("%w: --format must be table, csv or json", errUsage)
	}
	e, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer e.close()
	svc := legacy.New(legacy.Deps{Store: e.durable, Now: time.Now})
	switch args[0] {
	case "import":
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		rep, err := svc.Import(ctx, *service, f, legacy.ImportOptions{DryRun: *dryRun, SkipBad: *skipBad, ActorID: cliActor.AuditID()})
		if rep.Service != "" && (err == nil || errors.Is(err, legacy.ErrBadLines)) {
			printImport(stdout, fs.Arg(0), rep, *skipBad)
		}
		return err
	case "report":
		rows, err := svc.Report(ctx, *service)
		if err != nil {
			return err
		}
		return printReport(stdout, *format, rows)
	case "link":
		if *loginID == "" || *email == "" {
			return fmt.Errorf("%w: --login-id and --email are required", errUsage)
		}
		u, err := svc.Link(ctx, cliActor.AuditID(), *email, *service, *loginID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "linked %s of %s to %s (%s)\n", *loginID, *service, u.Email, u.ID)
	case "unlink":
		if *email == "" {
			return fmt.Errorf("%w: --email is required", errUsage)
		}
		l, err := svc.Unlink(ctx, cliActor.AuditID(), *email, *service)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "unlinked %s of %s from %s\n", l.LoginID, *service, *email)
	}
	return nil
}

func printImport(w io.Writer, name string, rep legacy.ImportReport, skipBad bool) {
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "%s:%d: %s\n", name, p.Line, p.Reason)
	}
	for _, c := range rep.Changes {
		fmt.Fprintf(w, "%s: %s\n", name, legacy.ChangeText(c))
	}
	for _, o := range rep.OrgsCreated {
		fmt.Fprintf(w, "%s: organization %s created\n", name, o)
	}
	state := "imported"
	switch {
	case !rep.Applied && rep.Rejected > 0 && !skipBad:
		state = "NOT imported (bad lines; fix them or use --skip-bad)"
	case !rep.Applied:
		state = "dry run, nothing changed"
	}
	fmt.Fprintf(w, "%s: service %s: %d created, %d updated, %d unchanged, %d rejected — %s\n",
		name, rep.Service, rep.Created, rep.Updated, rep.Unchanged, rep.Rejected, state)
}

func printReport(w io.Writer, format string, rows []store.LegacyReportRow) error {
	type row struct {
		Service       string `json:"service"`
		Org           string `json:"org_code"`
		OrgName       string `json:"org_name"`
		Total         int    `json:"total"`
		Preregistered int    `json:"preregistered"`
		People        int    `json:"people"`
		NotYet        int    `json:"not_yet"`
	}
	out := make([]row, len(rows))
	for i, r := range rows {
		out[i] = row{r.ServiceCode, r.OrgCode, r.OrgName, r.Total, r.Registered, r.People, r.Total - r.Registered}
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if out == nil {
			out = []row{}
		}
		return enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"service", "org_code", "org_name", "total", "preregistered", "people", "not_yet"})
		for _, r := range out {
			_ = cw.Write([]string{r.Service, r.Org, r.OrgName, strconv.Itoa(r.Total), strconv.Itoa(r.Preregistered),
				strconv.Itoa(r.People), strconv.Itoa(r.NotYet)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SERVICE\tORG\tNAME\tTOTAL\tPRE-REGISTERED\tPEOPLE\tNOT YET\t")
	var t row
	for _, r := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t\n", r.Service, r.Org, r.OrgName, r.Total, r.Preregistered, r.People, r.NotYet)
		t.Total, t.Preregistered, t.People, t.NotYet = t.Total+r.Total, t.Preregistered+r.Preregistered, t.People+r.People, t.NotYet+r.NotYet
	}
	fmt.Fprintf(tw, "TOTAL\t\t\t%d\t%d\t%d\t%d\t\n", t.Total, t.Preregistered, t.People, t.NotYet)
	return tw.Flush()
}
