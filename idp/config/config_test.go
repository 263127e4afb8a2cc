package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func problems(t *testing.T, err error) []string {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *config.Error, got %v", err)
	}
	return ce.Problems
}

func TestMinimalFileGetsDefaults(t *testing.T) {
	c, err := Parse([]byte("issuer: https://id.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sessions.RememberIdle.D() != 14*24*time.Hour || c.Tokens.CodeTTL.D() != time.Minute {
		t.Fatalf("defaults not applied: %+v", c.Sessions)
	}
	if c.Password.MemoryKiB != 19456 || c.Password.Iterations != 2 || c.Password.Parallelism != 1 {
		t.Fatalf("argon2id defaults: %+v", c.Password)
	}
}

func TestThreeMistakesAllReported(t *testing.T) {
	in := `issuer: http://id.example.com
sessions:
  remember_idle: 14x
keys:
  rsa_bits: 1024
`
	_, err := Parse([]byte(in))
	p := problems(t, err)
	want := []string{"issuer: http is allowed only for localhost", "invalid duration \"14x\"", "keys.rsa_bits"}
	if len(p) != len(want) {
		t.Fatalf("want %d problems, got %d: %q", len(want), len(p), p)
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(p, "\n"), w) {
			t.Errorf("missing problem %q in %q", w, p)
		}
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	_, err := Parse([]byte("issuer: https://id.example.com\nsesions:\n  remember_idle: 1d\n"))
	p := problems(t, err)
	if len(p) != 1 || !strings.Contains(p[0], "sesions") || !strings.Contains(p[0], "line 2") {
		t.Fatalf("want one problem naming the key and line, got %q", p)
	}
}

func TestValidateServeNeedsBackends(t *testing.T) {
	c, err := Parse([]byte("issuer: https://id.example.com\nkek:\n  current: {env: \"\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := problems(t, c.ValidateServe()); len(got) != 3 {
		t.Fatalf("want 3 problems, got %q", got)
	}
}

func TestRulesRejectBadValues(t *testing.T) {
	cases := map[string]string{
		"tokens.code_ttl":                              "tokens:\n  code_ttl: 11m\n",
		"keys.algorithms":                              "keys:\n  algorithms: [ES256]\n",
		"keys.publish_before":                          "keys:\n  rotation_period: 1d\n  publish_before: 2d\n",
		"throttle.lock_after":                          "throttle:\n  delay_after: 5\n  lock_after: 5\n",
		"smtp.tls":                                     "smtp:\n  host: mail.example.com\n  from: hub@example.com\n  tls: none\n",
		"redis: configure exactly one":                 "redis:\n  addrs: [\"r:6379\"]\n  cluster:\n    addrs: [\"c:7000\"]\n",
		"redis.sentinel.addrs":                         "redis:\n  sentinel:\n    master_name: m\n",
		"redis.sentinel.master_name":                   "redis:\n  sentinel:\n    addrs: [\"s:26379\"]\n",
		"redis.cluster.addrs[0]":                       "redis:\n  cluster:\n    addrs: [nope]\n",
		"redis.db: Redis Cluster":                      "redis:\n  db: 2\n  cluster:\n    addrs: [\"c:7000\"]\n",
		"tracing.otlp_endpoint":                        "tracing:\n  otlp_endpoint: collector:4318\n",
		"tracing.sample_ratio":                         "tracing:\n  sample_ratio: 2\n",
		"listen.request_timeout":                       "listen:\n  request_timeout: 1ms\n",
		"listen.trusted_proxies":                       "listen:\n  trusted_proxies: [not-a-cidr]\n",
		"redis.wait_replicas: not with Redis Cluster":  "redis:\n  wait_replicas: 1\n  cluster:\n    addrs: [\"c:7000\"]\n",
		"redis.wait_timeout":                           "redis:\n  wait_timeout: 0s\n",
		"listen.shutdown_delay":                        "listen:\n  shutdown_delay: -1s\n",
		"listen.shutdown_timeout: must be between":     "listen:\n  shutdown_timeout: 0s\n",
		"listen.shutdown_timeout: must not be shorter": "listen:\n  request_timeout: 30s\n  shutdown_timeout: 10s\n",
		"password.min_length":                          "password:\n  min_length: 4\n",
		"issuer: must not end":                         "",
		"kek.current: set env or":                      "kek:\n  current: {env: A, file: /b}\n",
	}
	for want, extra := range cases {
		issuer := "issuer: https://id.example.com\n"
		if want == "issuer: must not end" {
			issuer = "issuer: https://id.example.com/\n"
		}
		_, err := Parse([]byte(issuer + extra))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want a problem naming it, got %v", want, err)
		}
	}
}

func TestSecretRef(t *testing.T) {
	env := map[string]string{"PW": "s3cret"}
	getenv := func(k string) string { return env[k] }
	if v, err := (SecretRef{Env: "PW"}).Resolve(getenv); err != nil || v != "s3cret" {
		t.Fatalf("env: %q %v", v, err)
	}
	if _, err := (SecretRef{Env: "MISSING"}).Resolve(getenv); err == nil {
		t.Fatal("missing env must fail")
	}
	f := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := (SecretRef{File: f}).Resolve(getenv); err != nil || v != "from-file" {
		t.Fatalf("file: %q %v", v, err)
	}
}

func TestDurationDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"14d": 14 * 24 * time.Hour, "90s": 90 * time.Second, "12h": 12 * time.Hour} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%s: got %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "1.5d", "abc"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestRedisModes(t *testing.T) {
	for yml, want := range map[string]string{
		"redis:\n  addrs: [\"r:6379\"]\n": "standalone",
		"redis:\n  sentinel:\n    master_name: m\n    addrs: [\"s1:26379\", \"s2:26379\"]\n    password: {env: SP}\n": "sentinel",
		"redis:\n  cluster:\n    addrs: [\"c1:7000\", \"c2:7000\"]\n":                                                 "cluster",
	} {
		c, err := Parse([]byte("issuer: https://id.example.com\npostgres:\n  dsn: postgres://h/db\n" + yml))
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if err := c.ValidateServe(); err != nil {
			t.Errorf("%s: %v", want, err)
		}
		if m := c.Redis.Modes(); len(m) != 1 || m[0] != want {
			t.Errorf("modes %v, want %s", m, want)
		}
	}
	// All three at once: one problem naming them.
	_, err := Parse([]byte("issuer: https://id.example.com\nredis:\n  addrs: [\"r:6379\"]\n  sentinel:\n    master_name: m\n    addrs: [\"s:26379\"]\n  cluster:\n    addrs: [\"c:7000\"]\n"))
	if err == nil || !strings.Contains(err.Error(), "found standalone, sentinel, cluster") {
		t.Errorf("three modes: %v", err)
	}
}
