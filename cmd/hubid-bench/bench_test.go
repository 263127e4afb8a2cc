package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/internal/hubtest"
)

func TestParseStatCPU(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := "4242 (hub id) (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 731 269 0 0 20 0 9 0 100 2000000 3000 18446744073709551615"
	got, err := parseStatCPU(stat)
	if err != nil || got != 731+269 {
		t.Fatalf("parseStatCPU = %d, %v; want 1000", got, err)
	}
	if _, err := parseStatCPU("4242 (hubid) S 1 2"); err == nil {
		t.Fatal("short stat line accepted")
	}
	// Our own process: the live reader works.
	if _, err := cpuTicks(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func TestParseStatusMem(t *testing.T) {
	rss, hwm, err := parseStatusMem("Name:\thubid\nVmHWM:\t  680612 kB\nVmRSS:\t   28904 kB\nThreads:\t9\n")
	if err != nil || rss != 28904<<10 || hwm != 680612<<10 {
		t.Fatalf("parseStatusMem = %d, %d, %v", rss, hwm, err)
	}
	if anon, err := statusBytes("RssAnon:\t    9676 kB\nRssFile:\t   12688 kB\n", "RssFile"); err != nil || anon != 12688<<10 {
		t.Fatalf("statusBytes RssFile = %d, %v", anon, err)
	}
	if _, _, err := parseStatusMem("Name:\thubid\n"); err == nil {
		t.Fatal("status without VmRSS accepted")
	}
}

func TestPercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	p50, p99 := percentiles(lat)
	if p50 != 50*time.Millisecond || p99 != 99*time.Millisecond {
		t.Fatalf("p50 %v p99 %v", p50, p99)
	}
	if p50, p99 := percentiles(nil); p50 != 0 || p99 != 0 {
		t.Fatal("empty input")
	}
	if p50, p99 := percentiles([]time.Duration{7}); p50 != 7 || p99 != 7 {
		t.Fatal("one sample")
	}
}

func TestServerConfigIsValid(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		sc := serverConfig{alg: alg, port: 18080, metricsPort: 19090, dsn: "postgres://postgres@127.0.0.1:5432/test?search_path=s",
			redis: "127.0.0.1:6379", prefix: "hubidbench:x:", postgresMaxConns: 20}
		c, err := config.Parse([]byte(sc.yaml()))
		if err != nil {
			t.Fatalf("%s: %v\n%s", alg, err, sc.yaml())
		}
		if c.Tokens.IDTokenSigningAlgorithm != alg || !slices.Contains(c.Keys.Algorithms, alg) || c.Log.Level != "warn" {
			t.Fatalf("%s: parsed %+v %+v", alg, c.Tokens, c.Keys)
		}
		if c.Password.MemoryKiB != 19456 || c.Password.Iterations != 2 {
			t.Fatalf("argon2id parameters are not the defaults: %+v", c.Password)
		}
		if def := config.Defaults().Sessions.TouchInterval; c.Sessions.TouchInterval != def {
			t.Fatalf("touch interval %v without -touch-interval, want the default %v", c.Sessions.TouchInterval, def)
		}
		sc.touchInterval = "0s"
		if c, err = config.Parse([]byte(sc.yaml())); err != nil || c.Sessions.TouchInterval != 0 {
			t.Fatalf("-touch-interval 0s: %v %v\n%s", c.Sessions.TouchInterval, err, sc.yaml())
		}
	}
}

func TestSpliceReport(t *testing.T) {
	fresh, err := spliceReport("", "GEN1\n")
	if err != nil || !strings.HasPrefix(fresh, "# Benchmarks") || !strings.Contains(fresh, "GEN1") {
		t.Fatalf("new file: %v\n%s", err, fresh)
	}
	edited := strings.Replace(fresh, "# Benchmarks\n", "# Benchmarks\n\nHand-written method.\n", 1) + "\n## Analysis\n\nkept\n"
	again, err := spliceReport(edited, "GEN2\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Hand-written method.", "GEN2", "## Analysis\n\nkept"} {
		if !strings.Contains(again, want) {
			t.Errorf("lost %q:\n%s", want, again)
		}
	}
	if strings.Contains(again, "GEN1") {
		t.Errorf("old generated part kept:\n%s", again)
	}
	if _, err := spliceReport("# Someone else's file\n", "GEN\n"); err == nil {
		t.Fatal("file without markers overwritten")
	}
}

func TestReportMarksTargets(t *testing.T) {
	r := &report{date: time.Unix(0, 0), duration: time.Second, conns: []int{1, 32}, users: 1,
		machine: machine{cpus: 2, cpuModel: "CPU", clkTck: 100, clkTckRead: true}}
	ps := &pass{alg: "RS256", idleRSS: 30e6}
	ps.results = []result{
		{scenario: "discovery", title: "Discovery", conns: 32, n: 30000, wall: time.Second, hubidCPU: time.Second},
		{scenario: "jwks", title: "JWKS", conns: 32, n: 10000, wall: time.Second, hubidCPU: time.Second},
		// The 1-connection run would pass; the target is judged at 32.
		{scenario: "jwks", title: "JWKS", conns: 1, n: 50000, wall: time.Second, hubidCPU: time.Second},
	}
	ps.results = append(ps.results,
		result{scenario: "refresh", title: "Refresh", conns: 32, n: 450, wall: time.Second, hubidCPU: time.Second})
	r.passes = []*pass{ps}
	r.prims = primitives{rsaSign: time.Millisecond, es256Sign: 50 * time.Microsecond, argon2id: 30 * time.Millisecond}
	md := r.Markdown()
	for _, want := range []string{
		"| Discovery | ≥ 20,000/CPU-s |  | 30,000/CPU-s |  | ✅ pass |",
		"| JWKS | ≥ 20,000/CPU-s | 50,000/CPU-s | 10,000/CPU-s |  | ❌ below target |",
		"| Refresh (rotation), ES256 | ≥ 3,000/CPU-s | | not run | 10,000/CPU-s | |",
		"| Refresh (rotation), RS256 | ≥ 500/CPU-s |  | 450/CPU-s | 500/CPU-s (90% reached) | ❌ below target |",
		"| Full sign-in, default argon2id | ≥ 40.0/CPU-s | | not run | 31.2/CPU-s | |",
		"| Idle RSS (RS256 pass) | ≤ 30.0 MB | | 30.0 MB | | ✅ pass |",
		"| Crypto, CPU per operation | RSA-2048 sign 1.00 ms, ES256 sign 0.05 ms, argon2id (hubid's default parameters) 30.0 ms",
		"- JWKS: 10,000 per hubid CPU-second, 50% of the 20,000 required\n",
		"- Refresh (rotation), RS256: 450 per hubid CPU-second, 90% of the 500 required; the crypto alone allows 500 here (90% reached)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

// TestPrimitivesAreMeasured: the crypto timings are real CPU times.
func TestPrimitivesAreMeasured(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with the default argon2id parameters")
	}
	p, err := measurePrimitives(false)
	if err != nil {
		t.Fatal(err)
	}
	// Orders of magnitude only: RSA signing is far dearer than ES256, and
	// argon2id (19 MiB, 2 passes) far dearer than either.
	if p.es256Sign <= 0 || p.rsaSign < 5*p.es256Sign || p.argon2id < 5*p.rsaSign {
		t.Fatalf("implausible timings: %+v", p)
	}
}

// fakeCPU advances by a fixed step per reading.
type fakeCPU struct{ n atomic.Int64 }

func (f *fakeCPU) CPU() (time.Duration, error) {
	return time.Duration(f.n.Add(1)) * 100 * time.Millisecond, nil
}

// TestScenariosAgainstHubid drives every scenario against an in-process
// hubid (embedded storage) seeded with the bench's own seed file: the
// flows, the seed and the checks on the answers agree with hubid.
func TestScenariosAgainstHubid(t *testing.T) {
	ctx := context.Background()
	c, bySession := benchHubid(t, 2)
	sessions := bySession[""]
	algs, err := tokenAlgs(ctx, c, sessions[0])
	if err != nil || !strings.Contains(algs, "ID token RS256") {
		t.Fatalf("token algorithms %q, %v", algs, err)
	}
	for _, s := range scenarios(c, bySession, 3, nil) {
		res, err := runLoad(ctx, s, 2, 150*time.Millisecond, &fakeCPU{})
		if err != nil {
			t.Fatal(err)
		}
		if res.errors != 0 || res.n == 0 {
			t.Errorf("%s: %d iterations, %d errors: %v", s.name, res.n, res.errors, res.errorSamples)
		}
		if res.hubidCPU != 100*time.Millisecond || res.p50 <= 0 || res.p99 < res.p50 {
			t.Errorf("%s: cpu %v p50 %v p99 %v", s.name, res.hubidCPU, res.p50, res.p99)
		}
	}
	// A reused (rotated long ago) or wrong token is an error, not a success.
	if err := c.Introspect(ctx, "not-a-token"); err == nil {
		t.Error("inactive token counted as success")
	}
	if _, err := c.Refresh(ctx, "not-a-token"); err == nil {
		t.Error("bad refresh token counted as success")
	}
}

// benchHubid starts an in-process hubid (embedded storage) seeded with
// the bench's seed file (3 users) and signs n of them in with each bench
// client (by client: "" is clientID).
func benchHubid(t *testing.T, n int) (*client, map[string][]session) {
	env := hubtest.New(t, hubtest.Options{})
	hash, err := env.Hasher.Hash(userPassword)
	if err != nil {
		t.Fatal(err)
	}
	seedPath := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(seedPath, []byte(seedYAML(3, hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	env.ApplySeed(t, seedPath)
	c := newClient(env.URL, newTransport())
	t.Cleanup(c.transport.CloseIdleConnections)
	bySession, err := prepareAll(context.Background(), c, nil, "RS256", n, 3)
	if err != nil {
		t.Fatal(err)
	}
	return c, bySession
}
