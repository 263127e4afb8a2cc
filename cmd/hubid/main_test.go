package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
)

// runAsync starts `hubid args...` and returns its output buffer and a stop
// function that cancels it (like SIGTERM) and waits for the exit code.
func runAsync(t *testing.T, args ...string) (*testenv.Buffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &testenv.Buffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, out, out) }()
	var once sync.Once
	code := -1
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("hubid did not stop within 30 s")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return out, stop
}

// waitGet polls url until it answers with want (bounded).
func waitGet(t *testing.T, url string, want int) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return b
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s answered %d: %s", url, resp.StatusCode, b)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("%s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMetric waits until the metrics page has line.
func waitMetric(t *testing.T, url, line string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b := waitGet(t, url, 200)
		if slices.Contains(strings.Split(string(b), "\n"), line) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q", url, line)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func checkDiscoveryAndKeys(t *testing.T, base string) string {
	t.Helper()
	var disc map[string]any
	if err := json.Unmarshal(waitGet(t, base+"/.well-known/openid-configuration", 200), &disc); err != nil {
		t.Fatal(err)
	}
	if disc["issuer"] != base || disc["jwks_uri"] != base+"/keys" {
		t.Fatalf("discovery: %v", disc)
	}
	var set struct {
		Keys []struct{ Kid, Alg, Kty, Use, N, E string }
	}
	if err := json.Unmarshal(waitGet(t, base+"/keys", 200), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == "" || k.Alg != "RS256" || k.Kty != "RSA" || k.Use != "sig" || k.N == "" || k.E == "" {
			t.Fatalf("not a valid RS256 JWK: %+v", k)
		}
	}
	if len(set.Keys) == 0 {
		t.Fatal("empty key set")
	}
	return set.Keys[0].Kid
}

func TestDevServesDiscoveryAndKeysAndKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := testenv.FreeAddr(t)
	base := "http://" + addr
	out, stop := runAsync(t, "dev", "--data", dir, "--listen", addr, "--demo=false")
	kid := checkDiscoveryAndKeys(t, base)
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{base + "/.well-known/openid-configuration", "admin@demo.example", "23 created"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A second start keeps the first run's data and keys.
	out2, stop2 := runAsync(t, "dev", "--data", dir, "--listen", addr, "--demo=false")
	if kid2 := checkDiscoveryAndKeys(t, base); kid2 != kid {
		t.Errorf("key changed across restarts: %s then %s", kid, kid2)
	}
	stop2()
	if !strings.Contains(out2.String(), "0 created, 23 unchanged") {
		t.Errorf("second start re-created data:\n%s", out2)
	}
}

func TestServeOnPostgresAndRedisReadinessFollowsRedis(t *testing.T) {
	dsn := testenv.Postgres(t)
	redisAddr, prefix := testenv.Redis(t)
	px := testenv.NewProxy(t, redisAddr)
	addr, metrics := testenv.FreeAddr(t), testenv.FreeAddr(t)
	kek := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	t.Setenv("HUBID_TEST_KEK", kek)
	cfg := filepath.Join(t.TempDir(), "hubid.yaml")
	writeFile(t, cfg, "issuer: http://"+addr+"\nlisten:\n  http: "+addr+"\n  metrics: "+metrics+"\n  shutdown_delay: 0s"+
		"\npostgres:\n  dsn: "+dsn+"\nredis:\n  addrs: ["+px.Addr()+"]\n  key_prefix: \""+prefix+"\"\nkek:\n  current: {env: HUBID_TEST_KEK}\nlog:\n  level: error\n")
	out, stop := runAsync(t, "serve", "--config", cfg)
	checkDiscoveryAndKeys(t, "http://"+addr)
	waitGet(t, "http://"+metrics+"/readyz", 200)
	waitGet(t, "http://"+metrics+"/healthz", 200)
	if m := string(waitGet(t, "http://"+metrics+"/metrics", 200)); !strings.Contains(m, "hubid_http_requests_total") {
		t.Error("metrics lack hubid_http_requests_total")
	}
	waitMetric(t, "http://"+metrics+"/metrics", "hubid_revocation_mirror_usable 1")

	px.SetDown(true)
	body := string(waitGet(t, "http://"+metrics+"/readyz", 503))
	if !strings.Contains(body, `"redis"`) || strings.Contains(body, `"postgres":"down"`) {
		t.Fatalf("readyz must name redis only: %s", body)
	}
	waitMetric(t, "http://"+metrics+"/metrics", "hubid_revocation_mirror_usable 0")
	px.SetDown(false)
	waitGet(t, "http://"+metrics+"/readyz", 200)
	waitMetric(t, "http://"+metrics+"/metrics", "hubid_revocation_mirror_usable 1")
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestRuntimeDefaults(t *testing.T) {
	oldGC, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer func() { debug.SetGCPercent(oldGC); debug.SetMemoryLimit(oldLimit) }()
	runtimeDefaults(func(string) (string, bool) { return "", false }, 19456)
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("without GOGC: GC percent %d, want %d", got, defaultGCPercent)
	}
	want := defaultMemoryLimit(runtime.GOMAXPROCS(0), 19456)
	if got := debug.SetMemoryLimit(math.MaxInt64); got != want {
		t.Errorf("without GOMEMLIMIT: limit %d, want %d", got, want)
	}
	if got := defaultMemoryLimit(2, 19456); got != 102<<20 {
		t.Errorf("limit for 2 CPUs and 19 MiB hashes: %d MiB, want 102", got>>20)
	}
	if got := defaultMemoryLimit(4, 65536); got != (48+4*72)<<20 {
		t.Errorf("limit for 4 CPUs and 64 MiB hashes: %d MiB, want %d", got>>20, 48+4*72)
	}
	raiseMemoryLimit(func(string) (string, bool) { return "", false }, 65536)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("raiseMemoryLimit without a limit set: limit %d, want none", got)
	}
	debug.SetMemoryLimit(want)
	raiseMemoryLimit(func(string) (string, bool) { return "", false }, 1024)
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Errorf("raiseMemoryLimit for smaller hashes: limit %d, want %d kept", got, want)
	}
	raiseMemoryLimit(func(string) (string, bool) { return "", false }, 65536)
	if got, big := debug.SetMemoryLimit(-1), defaultMemoryLimit(runtime.GOMAXPROCS(0), 65536); got != big {
		t.Errorf("raiseMemoryLimit for 64 MiB hashes: limit %d, want %d", got, big)
	}
	raiseMemoryLimit(func(k string) (string, bool) { return "1GiB", k == "GOMEMLIMIT" }, 1<<20)
	if got, big := debug.SetMemoryLimit(math.MaxInt64), defaultMemoryLimit(runtime.GOMAXPROCS(0), 65536); got != big {
		t.Errorf("raiseMemoryLimit with GOMEMLIMIT set: limit %d, want %d kept", got, big)
	}
	runtimeDefaults(func(k string) (string, bool) { return "50", k == "GOGC" || k == "GOMEMLIMIT" }, 19456)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set: GC percent changed to %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: limit changed to %d", got)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConfigCheckReportsEveryMistake(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, cfg, "issuer: http://id.example.com\nsessions:\n  remember_idle: 14x\nkeys:\n  rsa_bits: 1024\n")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"config", "check", cfg}, &out, &out); code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"issuer:", "14x", "keys.rsa_bits", "postgres.dsn", "redis.addrs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
	good := filepath.Join(t.TempDir(), "good.yaml")
	example, err := os.ReadFile("../../deploy/hubid.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, good, string(example))
	out.Reset()
	if code := run(context.Background(), []string{"config", "check", good}, &out, &out); code != 0 {
		t.Fatalf("example config: exit %d: %s", code, out.String())
	}
}

func TestSeedWithAnErrorAppliesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	seedFile := filepath.Join(t.TempDir(), "seed.yaml")
	writeFile(t, seedFile, `organizations:
  - code: ORG1
    name: Org One
users:
  - email: a@example.com
    name: A
    password: long-enough-password
    memberships:
      - org: ORG1
        role: admin
`)
	var out bytes.Buffer
	if code := run(context.Background(), []string{"seed", "apply", "--data", dir, seedFile}, &out, &out); code != 1 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "seed.yaml:10") || !strings.Contains(out.String(), "role") {
		t.Fatalf("error must name the line and field:\n%s", out.String())
	}
	// Nothing was applied: fixing the role and applying creates everything.
	writeFile(t, seedFile, strings.Replace(mustRead(t, seedFile), "role: admin", "role: administrator", 1))
	out.Reset()
	if code := run(context.Background(), []string{"seed", "apply", "--data", dir, seedFile}, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "3 created") {
		t.Fatalf("want 3 created (org, user, membership): %s", out.String())
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBadCommandLines(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"serve"}, {"dev", "--listen", "nonsense"}, {"migrate"}, {"config", "check"}, {"keys", "retire", "--data", t.TempDir(), "kid"}} {
		var out bytes.Buffer
		if code := run(context.Background(), args, &out, &out); code == 0 {
			t.Errorf("%q: exit 0", args)
		} else if out.Len() == 0 {
			t.Errorf("%q: no message", args)
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &out); code != 0 || !strings.HasPrefix(out.String(), "hubid dev commit unknown go") {
		t.Errorf("version: %d %q", code, out.String())
	}
}

func TestMigrateStatusOnDevData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "up", "--data", dir}, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "0001") || strings.Contains(out.String(), "pending") {
		t.Fatalf("status after up:\n%s", out.String())
	}
}

func TestKeysCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	hubid := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), args, &out, &out)
		return code, out.String()
	}
	// Keys are created at first start; `seed apply` does not start the
	// server, so start dev once.
	addr := testenv.FreeAddr(t)
	_, stop := runAsync(t, "dev", "--data", dir, "--listen", addr, "--demo=false")
	checkDiscoveryAndKeys(t, "http://"+addr)
	stop()

	code, out := hubid("keys", "list", "--data", dir)
	if code != 0 || strings.Count(out, "RS256") != 2 || !strings.Contains(out, "active") || !strings.Contains(out, "next") {
		t.Fatalf("keys list: %d\n%s", code, out)
	}
	code, out = hubid("keys", "rotate", "--data", dir)
	if code == 0 || !strings.Contains(out, "published too briefly") {
		t.Fatalf("rotate must refuse a too-young key: %d\n%s", code, out)
	}
	var active string
	_, list := hubid("keys", "list", "--data", dir)
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "active" {
			active = f[0]
		}
	}
	code, out = hubid("keys", "retire", active, "--now", "--data", dir)
	if code == 0 {
		// "--" ends the flags, for kids made before they were hex (a
		// base64url kid may start with "-").
		_, _ = hubid("keys", "rotate", "--force", "--data", dir)
		_, list := hubid("keys", "list", "--data", dir)
		for _, line := range strings.Split(list, "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[2] == "active" {
				if c, o := hubid("keys", "retire", "--now", "--data", dir, "--", f[0]); c != 0 {
					t.Fatalf("retire --now -- KID: %d\n%s", c, o)
				}
			}
		}
	}
	if code != 0 || !strings.Contains(out, active) {
		t.Fatalf("retire %s --now: %d\n%s", active, code, out)
	}
	_, list = hubid("keys", "list", "--data", dir)
	if strings.Contains(list, active) {
		t.Fatalf("retired key still listed:\n%s", list)
	}
	if code, out = hubid("keys", "reseal", "--data", dir); code != 0 || !strings.Contains(out, "resealed") {
		t.Fatalf("reseal: %d\n%s", code, out)
	}
}
