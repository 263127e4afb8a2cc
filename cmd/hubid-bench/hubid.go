package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/customerhub/hubid/password"
)

// Bench identities. The client secret is only ever used against the
// throw-away schema of one run.
const (
	clientID = "hubid-bench"
	// noIDClientID is registered with refresh_id_token false, and
	// es256ClientID also with access_token_signing_algorithm ES256.
	noIDClientID  = "hubid-bench-noid"
	es256ClientID = "hubid-bench-es256at"
	clientSecret  = "hubid-bench-secret-not-for-production-0001"
	redirectURI   = "http://127.0.0.1:9/callback" // never contacted: the generator stops at the redirect
	userPassword  = "hubid-bench-password"
)

func userEmail(i int) string { return fmt.Sprintf("bench-%07d@bench.example", i) }

// buildHubid builds ./cmd/hubid with the build tags into dir (unstripped,
// so perf can name functions) and returns its path. The openssl tag needs
// cgo, so it builds with CGO_ENABLED=1, and Go's internal linker, like
// make build-openssl.
func buildHubid(ctx context.Context, dir, tags string, log io.Writer) (string, error) {
	bin := filepath.Join(dir, "hubid")
	args := []string{"build"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	openssl := hasTag(tags, "openssl")
	if openssl {
		// As make build-openssl links it (its idle RSS differs).
		args = append(args, "-ldflags=-linkmode=internal")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "-o", bin, "./cmd/hubid")...)
	if openssl {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s./cmd/hubid: %w (run from the module root)", strings.Join(args[1:], " ")+" ", err)
	}
	return bin, nil
}

// hasTag reports whether the comma- or space-separated build tags hold tag.
func hasTag(tags, tag string) bool {
	return slices.Contains(strings.FieldsFunc(tags, func(r rune) bool { return r == ',' || r == ' ' }), tag)
}

// hubidRSASigner asks the binary what signs its RS256 tokens (`hubid
// version` ends with "rsa-signer openssl" or "rsa-signer crypto/rsa");
// crypto/rsa when it does not say (a hubid older than the OpenSSL
// signer).
func hubidRSASigner(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %w", bin, err)
	}
	if _, after, ok := strings.Cut(string(out), "rsa-signer "); ok {
		return strings.TrimSpace(after), nil
	}
	return "crypto/rsa", nil
}

// freePort returns a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serverConfig is what differs between the hubid processes of one run.
type serverConfig struct {
	alg                string // RS256 or ES256: the signing algorithm of ID and access tokens
	port, metricsPort  int
	dsn, redis, prefix string
	redisDB            int
	postgresMaxConns   int
	configPath         string
	cpus               string // taskset -c list; "" = not pinned
	// dataDir, when set, runs `hubid dev` on this data directory
	// (SQLite + memory, no metrics listener) instead of `hubid serve`.
	dataDir string
	// touchInterval, when set, is hubid's sessions.touch_interval.
	touchInterval string
}

// command returns hubid's arguments and the URL that answers 200 once it
// is ready.
func (c serverConfig) command() (args []string, ready string) {
	if c.dataDir != "" {
		return []string{"dev", "--data", c.dataDir, "--listen", fmt.Sprintf("127.0.0.1:%d", c.port), "--demo=false"},
			c.issuer() + "/.well-known/openid-configuration"
	}
	return []string{"serve", "--config", c.configPath}, fmt.Sprintf("http://127.0.0.1:%d/readyz", c.metricsPort)
}

func (c serverConfig) issuer() string { return fmt.Sprintf("http://127.0.0.1:%d", c.port) }

func (c serverConfig) yaml() string {
	algs := "[RS256]"
	if c.alg != "RS256" {
		algs = "[RS256, " + c.alg + "]"
	}
	return fmt.Sprintf(`# written by hubid-bench
issuer: %s
listen:
  http: "127.0.0.1:%d"
  metrics: "127.0.0.1:%d"
postgres:
  dsn: %q
  max_conns: %d
  migrate_on_start: true
redis:
  addrs: [%q]
  db: %d
  key_prefix: %q
tokens:
  id_token_signing_algorithm: %s
keys:
  algorithms: %s
kek:
  current: {env: HUBID_KEK}
log:
  level: warn
`, c.issuer(), c.port, c.metricsPort, c.dsn, c.postgresMaxConns, c.redis, c.redisDB, c.prefix, c.alg, algs) + c.sessionsYAML()
}

// sessionsYAML is the sessions section ("" for hubid's defaults).
func (c serverConfig) sessionsYAML() string {
	if c.touchInterval == "" {
		return ""
	}
	return fmt.Sprintf("sessions:\n  touch_interval: %q\n", c.touchInterval)
}

// seedYAML is the seed file: one organization entitled to one service,
// first-party confidential clients (the main one allowed every grant, and
// one for each token option the refresh scenarios compare), and n users
// sharing one argon2id hash made with hubid's default parameters (so a
// sign-in verifies exactly as in production and never rehashes).
func seedYAML(n int, passwordHash string) string {
	var b strings.Builder
	b.WriteString(`# written by hubid-bench
organizations:
  - {code: BENCH, name: Bench Org}
services:
  - {code: bench, name: Bench Service}
entitlements:
  - {org: BENCH, service: bench}
`)
	b.WriteString(clientYAML())
	b.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {email: %s, name: Bench User %d, email_verified: true, password_hash: %q, memberships: [{org: BENCH, role: normal}]}\n",
			userEmail(i), i, passwordHash)
	}
	return b.String()
}

// clientYAML is the seed file's clients section: the bench clients.
func clientYAML() string {
	var b strings.Builder
	b.WriteString("clients:\n")
	for _, c := range []struct{ id, grants, options string }{
		{clientID, "authorization_code, refresh_token, client_credentials", ""},
		{noIDClientID, "authorization_code, refresh_token", "refresh_id_token: false"},
		{es256ClientID, "authorization_code, refresh_token", "refresh_id_token: false, access_token_signing_algorithm: ES256"},
	} {
		fmt.Fprintf(&b, "  - {id: %s, name: %s, service: bench, secret: %s, first_party: true, redirect_uris: [%q], grant_types: [%s]",
			c.id, c.id, clientSecret, redirectURI, c.grants)
		if c.options != "" {
			b.WriteString(", " + c.options)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// defaultPasswordHash hashes the users' password with hubid's defaults.
func defaultPasswordHash() (string, error) {
	h := &password.Hasher{Params: password.DefaultParams()}
	return h.Hash(userPassword)
}

// newKEK returns a random key-encryption key in the form HUBID_KEK takes.
func newKEK() string {
	var k [32]byte
	_, _ = rand.Read(k[:])
	return base64.StdEncoding.EncodeToString(k[:])
}

// hubidProc is a running `hubid serve`.
type hubidProc struct {
	cfg  serverConfig
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
	err  error // set when done is closed
	logs string
}

// runHubid runs a hubid command to completion (seed apply).
func runHubid(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("hubid %s: %w: %s", strings.Join(args[:2], " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// startHubid starts `hubid serve` (or `hubid dev`) and waits until it is
// ready.
func startHubid(ctx context.Context, bin string, env []string, cfg serverConfig, logPath string) (*hubidProc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args, ready := cfg.command()
	cmd := exec.Command(bin, args...)
	if cfg.cpus != "" { // taskset execs hubid: the PID stays the one measured
		cmd = exec.Command("taskset", append([]string{"-c", cfg.cpus, bin}, args...)...)
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	// Should the generator die, the kernel stops hubid too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start hubid: %w", err)
	}
	p := &hubidProc{cfg: cfg, cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{}), logs: logPath}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ready, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("hubid exited before it was ready (%v): %s", p.err, p.logTail(20))
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("hubid not ready after 60 s: %s", p.logTail(20))
		}
	}
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 30 s).
func (p *hubidProc) stop() error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("hubid did not stop within 30 s of SIGTERM; killed")
	}
	return p.exitErr()
}

func (p *hubidProc) exitErr() error {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) && ee.ExitCode() == 0 {
		return nil
	}
	return p.err
}

// alive reports whether the process is still running.
func (p *hubidProc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// logLines returns hubid's log (warn level and above), one entry a line.
func (p *hubidProc) logLines() []string {
	b, err := os.ReadFile(p.logs)
	if err != nil {
		return nil
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func (p *hubidProc) logTail(n int) string {
	lines := p.logLines()
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// clockTicks is the unit of utime and stime in /proc/PID/stat
// (sysconf(_SC_CLK_TCK)). Go has no sysconf without cgo, so ask getconf and
// fall back to 100, the value on every mainstream Linux architecture.
func clockTicks() (int64, bool) {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return n, true
		}
	}
	return 100, false
}

// cpuTicks returns utime+stime of pid (all its threads, live and exited)
// in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads fields 14 (utime) and 15 (stime) of /proc/PID/stat.
// The second field, the command name, may contain spaces and parentheses,
// so fields are counted from the last ')'.
func parseStatCPU(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("/proc stat: too few fields")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return u + s, nil
}

// memStatus returns VmRSS and VmHWM of pid in bytes.
func memStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatusMem(string(b))
}

// memSplit returns RssAnon and RssFile of pid in bytes: its private
// memory, and the pages of the executable and libraries it has mapped.
func memSplit(pid int) (anon, file int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	anon, err1 := statusBytes(string(b), "RssAnon")
	file, err2 := statusBytes(string(b), "RssFile")
	return anon, file, errors.Join(err1, err2)
}

// statusBytes returns the kB field key of a /proc/PID/status text in bytes.
func statusBytes(status, key string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("/proc status: %s: %q", k, v)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc status: %s: %w", k, err)
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("/proc status: no %s", key)
}

func parseStatusMem(status string) (rss, hwm int64, err error) {
	rss, err1 := statusBytes(status, "VmRSS")
	hwm, err2 := statusBytes(status, "VmHWM")
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	return rss, hwm, nil
}

// selfCPU returns the generator's own CPU time (user+system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
