package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bench runs everything and returns the report; on failure the report
// holds what was measured before it.
func bench(ctx context.Context, o options, log io.Writer) (rep *report, err error) {
	r := &report{date: time.Now(), duration: o.duration, idle: o.idleSettle, conns: o.conns, users: o.users, cpus: o.cpus,
		machine: describeMachine(), loadBefore: loadAverage()}
	defer func() { r.loadAfter = loadAverage() }()
	rep = r
	tmp, err := os.MkdirTemp("", "hubid-bench-")
	if err != nil {
		return nil, err
	}
	if o.keepLogs {
		fmt.Fprintln(log, "hubid-bench: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	bin := o.hubidBin
	if bin == "" {
		fmt.Fprintln(log, "hubid-bench: building ./cmd/hubid", o.tags)
		if bin, err = buildHubid(ctx, tmp, o.tags, log); err != nil {
			return nil, err
		}
	}
	// The crypto bound is that of the RSA signer hubid uses.
	signer, err := hubidRSASigner(ctx, bin)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(log, "hubid-bench: timing the crypto primitives; hubid signs RS256 with", signer)
	if r.prims, err = measurePrimitives(signer == "openssl"); err != nil {
		return r, fmt.Errorf("crypto primitives: %w", err)
	}
	fmt.Fprintln(log, "hubid-bench:", r.prims.describe())

	if o.dev {
		return benchDev(ctx, o, log, r, bin, tmp)
	}
	be, err := openBackendsIn(ctx, o.postgres, o.redis, o.redisDB, o.schema, o.prefix)
	if err != nil {
		return nil, err
	}
	rep.machine.postgres, rep.machine.redis = "PostgreSQL "+be.pgVersion, "Redis "+be.redisVersion
	defer func() {
		if cerr := be.cleanup(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup: %w", cerr))
		} else if be.seeded {
			fmt.Fprintf(log, "hubid-bench: kept the seeded schema %s and keys %s*\n", be.schema, be.redisPrefix)
		} else {
			fmt.Fprintf(log, "hubid-bench: dropped schema %s and keys %s*\n", be.schema, be.redisPrefix)
		}
	}()
	fmt.Fprintf(log, "hubid-bench: schema %s, redis prefix %s\n", be.schema, be.redisPrefix)

	var seedPath string
	kek := newKEK()
	if be.seeded {
		// The signing keys a run creates in the kept schema stay readable.
		kek = seedKeys{[]byte(o.key)}.kek()
	} else if seedPath, err = writeSeed(tmp, o.users); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "HUBID_KEK="+kek)

	algs := []string{"RS256"}
	if !o.skipES256 {
		algs = append(algs, "ES256")
	}
	for i, alg := range algs {
		cfg, err := writeConfig(tmp, alg, be, o.port, o.touchInterval)
		if err != nil {
			return rep, err
		}
		cfg.cpus = o.cpus
		if i == 0 && !be.seeded {
			out, err := runHubid(ctx, bin, env, "seed", "apply", "--config", cfg.configPath, seedPath)
			if err != nil {
				return rep, err
			}
			fmt.Fprint(log, "hubid-bench: ", out)
		}
		ps := &pass{alg: alg}
		rep.passes = append(rep.passes, ps)
		if err := runPass(ctx, o, log, bin, env, cfg, ps, filepath.Join(tmp, "hubid-"+alg+".log")); err != nil {
			rep.problems = append(rep.problems, fmt.Sprintf("%s pass: %v", alg, err))
			return rep, fmt.Errorf("%s pass: %w", alg, err)
		}
	}
	return rep, nil
}

// writeSeed writes the seed file (seedYAML) into dir.
func writeSeed(dir string, users int) (string, error) {
	hash, err := defaultPasswordHash()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "seed.yaml")
	return path, os.WriteFile(path, []byte(seedYAML(users, hash)), 0o600)
}

func writeConfig(dir, alg string, be *backends, basePort int, touchInterval string) (serverConfig, error) {
	port, err1 := freePort()
	mport, err2 := freePort()
	if err := errors.Join(err1, err2); err != nil {
		return serverConfig{}, err
	}
	if basePort > 0 { // a port range of one's own on a shared machine
		port, mport = basePort, basePort+1
	}
	cfg := serverConfig{
		alg: alg, port: port, metricsPort: mport,
		dsn: be.dsn(), redis: be.redisAddr, redisDB: be.redisDB, prefix: be.redisPrefix, postgresMaxConns: 20,
		configPath: filepath.Join(dir, "hubid-"+alg+".yaml"), touchInterval: touchInterval,
	}
	return cfg, os.WriteFile(cfg.configPath, []byte(cfg.yaml()), 0o600)
}

// runPass starts one hubid, measures its idle RSS, runs the scenarios and
// stops it.
func runPass(ctx context.Context, o options, log io.Writer, bin string, env []string, cfg serverConfig, ps *pass, logPath string) (err error) {
	args, _ := cfg.command()
	fmt.Fprintf(log, "hubid-bench: starting hubid %s (%s) on %s\n", args[0], cfg.alg, cfg.issuer())
	h, err := startHubid(ctx, bin, env, cfg, logPath)
	if err != nil {
		return err
	}
	defer func() {
		if serr := h.stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop hubid: %w", serr))
		}
		ps.logLines = h.logLines()
	}()
	// One transport for every worker and browser of this hubid.
	c := newClient(cfg.issuer(), newTransport())
	defer c.transport.CloseIdleConnections()
	// Warm-up: one request each to the cached documents, then idle.
	if err := errors.Join(c.Discovery(ctx), c.JWKS(ctx)); err != nil {
		return err
	}
	select {
	case <-time.After(o.idleSettle):
	case <-ctx.Done():
		return ctx.Err()
	}
	if ps.idleRSS, _, err = memStatus(h.pid); err != nil {
		return err
	}
	if ps.idleAnon, ps.idleFile, err = memSplit(h.pid); err != nil {
		return err
	}
	fmt.Fprintf(log, "hubid-bench: idle RSS %s (anonymous %s, file %s)\n", mb(ps.idleRSS), mb(ps.idleAnon), mb(ps.idleFile))

	maxConns := slices.Max(o.conns)
	n := maxConns
	if o.rate.step > 0 {
		n = max(n, rateChains)
	}
	only := o.scenarios
	if o.rate.step > 0 {
		only = map[string]bool{} // the search uses the bench client only
	}
	bySession, err := prepareAll(ctx, c, only, cfg.alg, n, o.users)
	if err != nil {
		return err
	}
	sessions := bySession[""]
	if ps.tokenAlgs, err = tokenAlgs(ctx, c, sessions[0]); err != nil {
		return err
	}
	if es := bySession[es256ClientID]; len(es) > 0 {
		alg, err := jwtAlg(es[0].AccessToken)
		if err != nil || alg != "ES256" {
			return fmt.Errorf("%s: access token alg %q (%v), want ES256", es256ClientID, alg, err)
		}
		ps.tokenAlgs += "; " + es256ClientID + " access token ES256"
	}
	fmt.Fprintf(log, "hubid-bench: %d sessions ready; tokens signed with %s\n", len(sessions), ps.tokenAlgs)

	hz, _ := clockTicks()
	meter := procCPU{pid: h.pid, hz: hz}
	if o.rate.step > 0 {
		ps.rates, err = searchRates(ctx, o.rate, log, c, sessions, o.users, meter)
		if err == nil && !h.alive() {
			err = fmt.Errorf("hubid exited: %v: %s", h.err, h.logTail(20))
		}
		return err
	}
	var pick cookiePicker
	if o.schema != "" {
		pick = seededCookies(seedKeys{[]byte(o.key)}, o.sessions)
	}
	for _, s := range scenarios(c, bySession, o.users, pick) {
		if o.scenarios != nil && !o.scenarios[s.name] {
			continue
		}
		if cfg.alg != "RS256" && !s.es256 {
			continue
		}
		for _, n := range o.conns {
			var stopPerf func()
			if o.perfDir != "" && n == maxConns {
				stopPerf = startPerf(o.perfDir, fmt.Sprintf("%s-%s-%d", s.name, cfg.alg, n), h.pid, log)
			}
			d := o.duration
			if s.long {
				d *= signInFactor
			}
			var stopPprof func()
			if o.pprofDir != "" && n == maxConns {
				stopPprof = startPprof(o.pprofDir, fmt.Sprintf("%s-%s-%d", s.name, cfg.alg, n), cfg.metricsPort, d, log)
			}
			res, err := runLoad(ctx, s, n, d, meter)
			if stopPerf != nil {
				stopPerf()
			}
			if stopPprof != nil {
				stopPprof()
			}
			res.alg = cfg.alg
			if err != nil {
				return err
			}
			ps.results = append(ps.results, res)
			fmt.Fprintf(log, "hubid-bench: %-8s %-18s ×%-2d %6d %-7s %3d errors  %8s/s  p50 %6s ms  p99 %6s ms  hubid %.2f cores  %8s per CPU-s\n",
				cfg.alg, s.name, n, res.n, res.unit, res.errors, num(res.rate()), ms(res.p50), ms(res.p99), res.cores(), num(res.perCPU()))
			for _, e := range res.errorSamples {
				fmt.Fprintln(log, "    error:", e)
			}
			if !h.alive() {
				return fmt.Errorf("hubid exited during %s: %v: %s", s.name, h.err, h.logTail(20))
			}
			// Let asynchronous work (audit writes, connection
			// closes) settle before the next run's CPU window.
			time.Sleep(300 * time.Millisecond)
		}
	}
	if ps.rssAfter, ps.peakRSS, err = memStatus(h.pid); err != nil {
		return err
	}
	return nil
}

// prepareAll signs in n sessions through the main bench client, and
// through each other bench client a selected scenario of this pass
// (only) needs.
func prepareAll(ctx context.Context, c *client, only map[string]bool, alg string, n, users int) (map[string][]session, error) {
	out := map[string][]session{}
	var err error
	if out[""], err = prepareSessions(ctx, c, n, users); err != nil {
		return nil, err
	}
	one := []session{{}}
	for _, s := range scenarios(c, map[string][]session{"": one, noIDClientID: one, es256ClientID: one}, users, nil) {
		if s.client == "" || out[s.client] != nil || (only != nil && !only[s.name]) || (alg != "RS256" && !s.es256) {
			continue
		}
		if out[s.client], err = prepareSessions(ctx, c.as(s.client), n, users); err != nil {
			return nil, fmt.Errorf("%s: %w", s.client, err)
		}
	}
	return out, nil
}

// tokenAlgs reports the algorithms hubid signs with, as seen in tokens.
func tokenAlgs(ctx context.Context, c *client, s session) (string, error) {
	cc, err := c.ClientCredentials(ctx)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, t := range []struct{ name, tok string }{{"ID token", s.IDToken}, {"access token", s.AccessToken}, {"client_credentials token", cc.AccessToken}} {
		alg, err := jwtAlg(t.tok)
		if err != nil {
			return "", fmt.Errorf("%s: %w", t.name, err)
		}
		parts = append(parts, t.name+" "+alg)
	}
	return strings.Join(parts, ", "), nil
}

// startPerf records hubid's call stacks with perf until the returned
// function is called; without perf it logs once and does nothing.
func startPerf(dir, name string, pid int, log io.Writer) func() {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(log, "hubid-bench: perf:", err)
		return nil
	}
	out := filepath.Join(dir, name+".data")
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", out)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(log, "hubid-bench: perf:", err)
		return nil
	}
	time.Sleep(200 * time.Millisecond) // perf attaches
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		fmt.Fprintln(log, "hubid-bench: perf data in", out)
	}
}

// startPprof fetches a CPU profile of hubid covering most of a run of
// length d; the returned function waits for it and saves it.
func startPprof(dir, name string, metricsPort int, d time.Duration, log io.Writer) func() {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(log, "hubid-bench: pprof:", err)
		return nil
	}
	secs := max(int(d/time.Second)-1, 1)
	out := filepath.Join(dir, name+".pprof")
	done := make(chan error, 1)
	go func() {
		u := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", metricsPort, secs)
		resp, err := http.Get(u)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("%s: %s", u, resp.Status)
			return
		}
		b, err := io.ReadAll(resp.Body)
		if err == nil {
			err = os.WriteFile(out, b, 0o644)
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			fmt.Fprintln(log, "hubid-bench: pprof:", err)
			return
		}
		fmt.Fprintln(log, "hubid-bench: CPU profile in", out)
	}
}

// loadAverage returns the 1-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// describeMachine reads the machine description from /proc and the
// toolchain.
func describeMachine() machine {
	m := machine{cpus: runtime.NumCPU(), cpuModel: "unknown CPU", goVersion: runtime.Version(), hubid: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f := strings.Fields(v)
				if len(f) == 2 {
					n, _ := strconv.ParseInt(f[0], 10, 64)
					m.memTotal = n << 10
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output(); err == nil {
		m.hubid = "`" + strings.TrimSpace(string(out)) + "`"
	}
	m.clkTck, m.clkTckRead = clockTicks()
	return m
}
