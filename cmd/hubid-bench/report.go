package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// A target is one requirement on requests per CPU-second of hubid.
type target struct {
	what     string
	scenario string
	alg      string
	min      float64
	// crypto is the CPU the unavoidable cryptography of one iteration
	// costs (nil when there is none worth naming): its inverse bounds
	// what any implementation could reach on the machine.
	crypto func(primitives) time.Duration
}

// targets are the requirement's, per CPU-second of the hubid process on
// the 2-core reference machine.
var targets = []target{
	// A refresh signs an access token and an ID token.
	{"Refresh (rotation), RS256", "refresh", "RS256", 500, func(p primitives) time.Duration { return 2 * p.rsaSign }},
	{"Refresh (rotation), ES256", "refresh", "ES256", 3000, func(p primitives) time.Duration { return 2 * p.es256Sign }},
	// refresh_id_token false: the access token is the only signature.
	{"Refresh without ID token, RS256", "refresh-noid", "RS256", 900, func(p primitives) time.Duration { return p.rsaSign }},
	{"Refresh without ID token, ES256 access token", "refresh-es256at", "RS256", 3000, func(p primitives) time.Duration { return p.es256Sign }},
	// A sign-in hashes the password and the code exchange signs two tokens.
	{"Full sign-in, default argon2id", "signin", "RS256", 40, func(p primitives) time.Duration { return p.argon2id + 2*p.rsaSign }},
	{"client_credentials, RS256", "client_credentials", "RS256", 1000, func(p primitives) time.Duration { return p.rsaSign }},
	// A cached access token costs no signature operation (idp/tokencache).
	{"Userinfo, JWT access token", "userinfo", "RS256", 12000, nil},
	{"Introspection, JWT access token", "introspection", "RS256", 12000, nil},
	{"Discovery", "discovery", "RS256", 20000, nil},
	{"JWKS", "jwks", "RS256", 20000, nil},
}

// bound is the iterations per CPU-second t's cryptography alone allows;
// 0 when unknown.
func (t target) bound(p primitives) float64 {
	if t.crypto == nil {
		return 0
	}
	c := t.crypto(p)
	if c <= 0 {
		return 0
	}
	return float64(time.Second) / float64(c)
}

// idleRSSLimit is the idle RSS target (30 MB, MB = 10^6 bytes).
const idleRSSLimit = 30_000_000

// pass is one hubid process (one signing algorithm) and its runs.
type pass struct {
	alg                        string
	tokenAlgs                  string // as seen in issued tokens
	idleRSS, rssAfter, peakRSS int64
	idleAnon, idleFile         int64 // idleRSS's private memory and the executable's (and libraries') mapped pages
	results                    []result
	logLines                   []string // hubid's warnings and errors
	rates                      []rateSearch
}

// machine describes where the bench ran.
type machine struct {
	cpus       int
	cpuModel   string
	memTotal   int64
	kernel     string
	goVersion  string
	hubid      string
	postgres   string
	redis      string
	clkTck     int64
	clkTckRead bool
}

// report is everything the Markdown report shows.
type report struct {
	date     time.Time
	machine  machine
	duration time.Duration
	idle     time.Duration // idle time before the idle RSS is read
	// loadBefore and loadAfter are /proc/loadavg's 1-minute load at
	// the start and the end: other work on the machine skews the figures.
	loadBefore, loadAfter string
	conns                 []int
	users                 int
	passes                []*pass
	problems              []string // run-level failures (e.g. a pass that did not finish)
	prims                 primitives
	cpus                  string // taskset list hubid was pinned to
}

// Errors is the number of failed requests in all runs.
func (r *report) Errors() int {
	n := 0
	for _, p := range r.passes {
		for _, res := range p.results {
			n += res.errors
		}
	}
	return n
}

// find returns the run of scenario on alg at conns connections.
func (r *report) find(scenario, alg string, conns int) (result, bool) {
	for _, p := range r.passes {
		if p.alg != alg {
			continue
		}
		for _, res := range p.results {
			if res.scenario == scenario && res.conns == conns {
				return res, true
			}
		}
	}
	return result{}, false
}

// gcSettings describes the garbage collector settings hubid inherits.
func gcSettings() string {
	var set []string
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			set = append(set, "`"+k+"="+v+"`")
		}
	}
	if len(set) == 0 {
		return "hubid's defaults (GOGC 400; soft memory limit 256 MiB + 64 MiB per CPU; GOMAXPROCS = CPUs)"
	}
	return "from the environment: " + strings.Join(set, ", ")
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// ms formats a latency with sensible precision.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// num formats a rate: thousands separated, one decimal below 100.
func num(v float64) string {
	if v < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func mark(ok bool) string {
	if ok {
		return "✅ pass"
	}
	return "❌ below target"
}

// Markdown renders the generated part of docs/benchmarks.md.
func (r *report) Markdown() string {
	var b bytes.Buffer
	m := r.machine
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("### Run of %s\n\n", r.date.UTC().Format("2006-01-02 15:04 MST"))
	p("| Machine | |\n|---|---|\n")
	p("| CPUs (`nproc`) | %d × %s |\n", m.cpus, m.cpuModel)
	p("| Memory | %.1f GB |\n", float64(m.memTotal)/1e9)
	p("| Kernel | Linux %s |\n", m.kernel)
	p("| Go | %s |\n", m.goVersion)
	p("| hubid | %s |\n", m.hubid)
	if m.postgres == "" {
		p("| Stores | `hubid dev`: SQLite and in-process memory (no PostgreSQL, no Redis) |\n")
	} else {
		p("| PostgreSQL / Redis | %s / %s (same machine) |\n", m.postgres, m.redis)
	}
	tck := fmt.Sprintf("CLK_TCK %d (from `getconf`)", m.clkTck)
	if !m.clkTckRead {
		tck = fmt.Sprintf("CLK_TCK assumed %d (`getconf` unavailable)", m.clkTck)
	}
	conns := make([]string, len(r.conns))
	for i, c := range r.conns {
		conns[i] = fmt.Sprint(c)
	}
	p("| Runs | %s each (sign-in %s) at %s connections; %d users; hubid CPU from `/proc/PID/stat`, %s |\n",
		r.duration, signInFactor*r.duration, strings.Join(conns, " and "), r.users, tck)
	if r.cpus != "" {
		p("| hubid pinned | `taskset -c %s` (the generator, PostgreSQL and Redis are not pinned) |\n", r.cpus)
	}
	p("| hubid's Go runtime | %s |\n", gcSettings())
	p("| Load average (1 min) | %s at the start, %s at the end |\n", r.loadBefore, r.loadAfter)
	if r.prims.rsaSign > 0 {
		p("| Crypto, CPU per operation | %s (the bench process, before hubid starts) |\n", r.prims.describe())
	}
	p("\n")

	for _, pr := range r.problems {
		p("> **Run incomplete:** %s\n\n", pr)
	}

	top := slices.Max(r.conns)
	p("#### Targets\n\nIterations per CPU-second of the hubid process. Pass or fail is judged on the %d-connection run; the 1-connection figure is shown beside it. *Crypto bound* is what the iteration's unavoidable signatures and hash alone would allow on this machine (from the crypto line above), and the share of it reached.\n\n", top)
	p("| Target | Required | 1 conn | %d conns | Crypto bound | |\n|---|---:|---:|---:|---:|---|\n", top)
	var below []string
	for _, t := range targets {
		res, ok := r.find(t.scenario, t.alg, top)
		bound := t.bound(r.prims)
		boundCell := ""
		if bound > 0 {
			boundCell = num(bound) + "/CPU-s"
		}
		if !ok {
			p("| %s | ≥ %s/CPU-s | | not run | %s | |\n", t.what, num(t.min), boundCell)
			continue
		}
		one := ""
		if r1, ok := r.find(t.scenario, t.alg, 1); ok && top != 1 {
			one = num(r1.perCPU()) + "/CPU-s"
		}
		got := res.perCPU()
		pass := got >= t.min && res.errors == 0
		if bound > 0 {
			boundCell += fmt.Sprintf(" (%.0f%% reached)", 100*got/bound)
		}
		p("| %s | ≥ %s/CPU-s | %s | %s/CPU-s | %s | %s |\n", t.what, num(t.min), one, num(got), boundCell, mark(pass))
		if !pass {
			line := fmt.Sprintf("%s: %s per hubid CPU-second, %.0f%% of the %s required",
				t.what, num(got), 100*got/t.min, num(t.min))
			if bound > 0 {
				line += fmt.Sprintf("; the crypto alone allows %s here (%.0f%% reached)", num(bound), 100*got/bound)
				if bound < t.min {
					line += ", less than the target"
				}
			}
			below = append(below, line)
		}
	}
	for _, ps := range r.passes {
		if ps.idleRSS == 0 {
			continue
		}
		ok := ps.idleRSS <= idleRSSLimit
		p("| Idle RSS (%s pass) | ≤ %s | | %s | | %s |\n", ps.alg, mb(idleRSSLimit), mb(ps.idleRSS), mark(ok))
		if !ok {
			below = append(below, fmt.Sprintf("idle RSS with %s: %s, above %s", ps.alg, mb(ps.idleRSS), mb(idleRSSLimit)))
		}
	}
	errs := r.Errors()
	p("| Errors | 0 in every run | | %d | | %s |\n\n", errs, mark(errs == 0 && len(r.problems) == 0))
	if len(below) > 0 {
		p("**Below target:**\n\n")
		for _, s := range below {
			p("- %s\n", s)
		}
		p("\n")
	}

	p("#### All runs\n\n")
	p("Latency is client-side, per iteration (a sign-in is 8 HTTP requests). *hubid cores* and *bench cores* are the CPU each process used during the run (2 cores in all).\n\n")
	p("| Scenario | Alg | Conns | Iterations | Errors | Iter/s | p50 ms | p99 ms | hubid cores | bench cores | Iter per hubid CPU-s |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, ps := range r.passes {
		for _, res := range ps.results {
			p("| %s | %s | %d | %d | %d | %s | %s | %s | %.2f | %.2f | %s |\n",
				res.title, ps.alg, res.conns, res.n, res.errors, num(res.rate()), ms(res.p50), ms(res.p99),
				res.cores(), res.benchCores(), num(res.perCPU()))
		}
	}
	p("\n#### Memory\n\n")
	p("| hubid process | Token signatures | Idle RSS (after start-up, %s idle) | of which anonymous / file | RSS at the end | Peak RSS (VmHWM) |\n|---|---|---:|---:|---:|---:|\n", r.idle)
	for _, ps := range r.passes {
		p("| %s pass | %s | %s | %s / %s | %s | %s |\n", ps.alg, ps.tokenAlgs, mb(ps.idleRSS), mb(ps.idleAnon), mb(ps.idleFile), mb(ps.rssAfter), mb(ps.peakRSS))
	}
	p("\n")
	var failures []string
	for _, ps := range r.passes {
		for _, res := range ps.results {
			for _, e := range res.errorSamples {
				failures = append(failures, fmt.Sprintf("%s %s ×%d: `%s`", res.scenario, ps.alg, res.conns, e))
			}
		}
	}
	if len(failures) > 0 {
		p("#### Failed requests (samples)\n\n")
		for _, f := range failures {
			p("- %s\n", f)
		}
		p("\n")
	}
	var logs []string
	for _, ps := range r.passes {
		for _, l := range ps.logLines {
			logs = append(logs, ps.alg+": "+l)
		}
	}
	if len(logs) > 0 {
		p("#### hubid warnings and errors (%d lines, first 10)\n\n```\n", len(logs))
		for _, l := range logs[:min(len(logs), 10)] {
			p("%s\n", l)
		}
		p("```\n\n")
	}
	return b.String()
}

// Markers delimit the generated part of the report file; the text around
// them (method, analysis) is kept.
const (
	beginMarker = "<!-- hubid-bench:begin — generated by `go run ./cmd/hubid-bench -o docs/benchmarks.md`; edit outside the markers -->"
	endMarker   = "<!-- hubid-bench:end -->"
)

// writeReport puts md between the markers of path, creating the file with
// a short introduction when it does not exist.
func writeReport(path, md string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	out, err := spliceReport(string(old), md)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

func spliceReport(old, md string) (string, error) {
	block := beginMarker + "\n\n" + md + endMarker
	if strings.TrimSpace(old) == "" {
		return "# Benchmarks\n\nWritten by `make bench` (`go run ./cmd/hubid-bench -o docs/benchmarks.md`).\n\n" + block + "\n", nil
	}
	i := strings.Index(old, "<!-- hubid-bench:begin")
	j := strings.Index(old, endMarker)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q … %q markers; add them where the generated report belongs", "<!-- hubid-bench:begin", endMarker)
	}
	return old[:i] + block + old[j+len(endMarker):], nil
}
