package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Algorithms hubid can sign with.
var Algorithms = []string{"RS256", "ES256", "EdDSA"}

// Validate checks every rule and reports all failures at once in an *Error.
// `hubid dev` leaves Postgres and Redis empty (embedded backends); `hubid
// serve` additionally calls ValidateServe.
func (c *Config) Validate() error {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }

	if c.Issuer == "" {
		add("issuer: required (the public https URL of hubid)")
	} else if u, err := url.Parse(c.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		add("issuer: %q is not an absolute http(s) URL", c.Issuer)
	} else {
		if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
			add("issuer: http is allowed only for localhost; use https")
		}
		if u.RawQuery != "" || u.Fragment != "" {
			add("issuer: must not have a query or fragment")
		}
		if strings.HasSuffix(u.Path, "/") {
			add("issuer: must not end with a slash")
		}
	}
	checkAddr := func(path, v string) {
		if _, _, err := net.SplitHostPort(v); err != nil {
			add("%s: %q is not host:port", path, v)
		}
	}
	checkAddr("listen.http", c.Listen.HTTP)
	if c.Listen.Metrics != "" {
		checkAddr("listen.metrics", c.Listen.Metrics)
		if c.Listen.Metrics == c.Listen.HTTP {
			add("listen.metrics: must differ from listen.http")
		}
	}
	if rt := c.Listen.RequestTimeout.D(); rt < 10*time.Millisecond || rt > 5*time.Minute {
		add("listen.request_timeout: must be between 10ms and 5m")
	}
	if d := c.Listen.ShutdownDelay.D(); d < 0 || d > 5*time.Minute {
		add("listen.shutdown_delay: must be between 0 and 5m")
	}
	if d := c.Listen.ShutdownTimeout.D(); d < time.Second || d > 10*time.Minute {
		add("listen.shutdown_timeout: must be between 1s and 10m")
	} else if d < c.Listen.RequestTimeout.D() {
		add("listen.shutdown_timeout: must not be shorter than listen.request_timeout (in-flight requests would be cut)")
	}
	for i, cidr := range c.Listen.TrustedProxies {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			if net.ParseIP(cidr) == nil {
				add("listen.trusted_proxies[%d]: %q is not an IP or CIDR", i, cidr)
			}
		}
	}

	if c.Postgres.MaxConns < 0 {
		add("postgres.max_conns: must be positive")
	}
	c.Postgres.Password.validate("postgres.password", add)
	c.validateRedis(add, checkAddr)
	if strings.ContainsAny(c.Redis.KeyPrefix, "{}") {
		add("redis.key_prefix: must not contain { or } (Redis Cluster hash tags)")
	}

	positive := func(path string, d Duration) {
		if d <= 0 {
			add("%s: must be a positive duration", path)
		}
	}
	s := c.Sessions
	positive("sessions.remember_idle", s.RememberIdle)
	positive("sessions.remember_absolute", s.RememberAbsolute)
	positive("sessions.browser_idle", s.BrowserIdle)
	positive("sessions.auth_request_ttl", s.AuthRequestTTL)
	if s.TouchInterval < 0 {
		add("sessions.touch_interval: must not be negative")
	}
	if s.RememberAbsolute < s.RememberIdle {
		add("sessions.remember_absolute: must be at least sessions.remember_idle")
	}

	t := c.Tokens
	positive("tokens.access_ttl", t.AccessTTL)
	positive("tokens.id_token_ttl", t.IDTokenTTL)
	positive("tokens.code_ttl", t.CodeTTL)
	if t.CodeTTL.D() > 10*time.Minute {
		add("tokens.code_ttl: at most 10m (RFC 6749 §4.1.2)")
	}
	positive("tokens.refresh_idle", t.RefreshIdle)
	positive("tokens.refresh_absolute", t.RefreshAbsolute)
	if t.RefreshAbsolute < t.RefreshIdle {
		add("tokens.refresh_absolute: must be at least tokens.refresh_idle")
	}
	if t.RefreshReuseGrace < 0 || t.RefreshReuseGrace.D() > time.Minute {
		add("tokens.refresh_reuse_grace: between 0 and 1m")
	}
	if !slices.Contains(Algorithms, t.IDTokenSigningAlgorithm) {
		add("tokens.id_token_signing_algorithm: %q is not one of %s", t.IDTokenSigningAlgorithm, strings.Join(Algorithms, ", "))
	}

	k := c.Keys
	for i, a := range k.Algorithms {
		if !slices.Contains(Algorithms, a) {
			add("keys.algorithms[%d]: %q is not one of %s", i, a, strings.Join(Algorithms, ", "))
		}
	}
	if !slices.Contains(k.Algorithms, "RS256") {
		add("keys.algorithms: must include RS256 (OpenID Connect requires it)")
	}
	if slices.Contains(Algorithms, t.IDTokenSigningAlgorithm) && !slices.Contains(k.Algorithms, t.IDTokenSigningAlgorithm) {
		add("tokens.id_token_signing_algorithm: %s is not in keys.algorithms", t.IDTokenSigningAlgorithm)
	}
	if k.RSABits != 2048 && k.RSABits != 3072 && k.RSABits != 4096 {
		add("keys.rsa_bits: must be 2048, 3072 or 4096")
	}
	positive("keys.rotation_period", k.RotationPeriod)
	if k.PublishBefore < 0 {
		add("keys.publish_before: must not be negative")
	}
	if k.RotationPeriod > 0 && k.PublishBefore >= k.RotationPeriod {
		add("keys.publish_before: must be shorter than keys.rotation_period")
	}
	if k.ClockSkew < 0 || k.ClockSkew.D() > time.Hour {
		add("keys.clock_skew: between 0 and 1h")
	}

	pw := c.Password
	if pw.MemoryKiB < 8*uint32(max(pw.Parallelism, 1)) {
		add("password.memory_kib: at least 8 KiB per thread")
	}
	if pw.MemoryKiB > 4*1024*1024 {
		add("password.memory_kib: at most 4 GiB")
	}
	if pw.Iterations < 1 || pw.Iterations > 100 {
		add("password.iterations: between 1 and 100")
	}
	if pw.Parallelism < 1 {
		add("password.parallelism: at least 1")
	}
	if pw.MinLength < 8 || pw.MinLength > 64 {
		add("password.min_length: between 8 and 64 (NIST 800-63B)")
	}

	th := c.Throttle
	if th.DelayAfter < 1 {
		add("throttle.delay_after: at least 1")
	}
	if th.LockAfter <= th.DelayAfter {
		add("throttle.lock_after: must be greater than throttle.delay_after")
	}
	positive("throttle.window", th.Window)

	m := c.SMTP
	if m.Host != "" {
		if m.Port < 1 || m.Port > 65535 {
			add("smtp.port: %d is not a port", m.Port)
		}
		if _, err := mail.ParseAddress(m.From); err != nil {
			add("smtp.from: %q is not an email address", m.From)
		}
		switch m.TLS {
		case "starttls", "implicit":
		case "none":
			if !isLoopbackHost(m.Host) {
				add("smtp.tls: none is allowed only for a loopback host")
			}
			if m.Username != "" {
				add("smtp.username: authentication is never sent without TLS (smtp.tls: none)")
			}
		default:
			add("smtp.tls: %q is not one of starttls, implicit, none", m.TLS)
		}
	}
	m.Password.validate("smtp.password", add)
	c.KEK.Current.validate("kek.current", add)
	for i, r := range c.KEK.Previous {
		r.validate(fmt.Sprintf("kek.previous[%d]", i), add)
		if !r.IsSet() {
			add("kek.previous[%d]: set env or file", i)
		}
	}
	if c.Helpdesk.Email != "" {
		if _, err := mail.ParseAddress(c.Helpdesk.Email); err != nil {
			add("helpdesk.email: %q is not an email address", c.Helpdesk.Email)
		}
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		add("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		add("log.format: %q is not json or text", c.Log.Format)
	}
	if c.Audit.Retention.D() < 24*time.Hour {
		add("audit.retention: at least 1d")
	}
	c.Admin.Token.validate("admin.token", add)
	if c.Admin.Token.IsSet() && c.Listen.Metrics == "" {
		add("admin.token: the admin API is served on listen.metrics, which is off")
	}
	for i, id := range c.Admin.Clients {
		if strings.TrimSpace(id) == "" || strings.ContainsAny(id, " \t\r\n") {
			add("admin.clients[%d]: %q is not a client ID", i, id)
		}
	}
	if len(c.Admin.Clients) > 0 && c.Listen.Metrics == "" {
		add("admin.clients: the admin API is served on listen.metrics, which is off")
	}
	c.Migration.validate(add)
	c.validateTracing(add)
	if len(p) > 0 {
		return &Error{Problems: p}
	}
	return nil
}

// validateRedis checks that at most one Redis mode is configured and that
// the chosen one is complete.
func (c *Config) validateRedis(add func(string, ...any), checkAddr func(path, v string)) {
	r := c.Redis
	if m := r.Modes(); len(m) > 1 {
		add("redis: configure exactly one of addrs (standalone), sentinel and cluster; found %s", strings.Join(m, ", "))
	}
	for i, a := range r.Addrs {
		checkAddr(fmt.Sprintf("redis.addrs[%d]", i), a)
	}
	if len(r.Addrs) > 1 {
		add("redis.addrs: one standalone server; use redis.sentinel or redis.cluster for several nodes")
	}
	s := r.Sentinel
	if s.MasterName != "" && len(s.Addrs) == 0 {
		add("redis.sentinel.addrs: required with redis.sentinel.master_name")
	}
	if len(s.Addrs) > 0 && s.MasterName == "" {
		add("redis.sentinel.master_name: required with redis.sentinel.addrs")
	}
	for i, a := range s.Addrs {
		checkAddr(fmt.Sprintf("redis.sentinel.addrs[%d]", i), a)
	}
	s.Password.validate("redis.sentinel.password", add)
	for i, a := range r.Cluster.Addrs {
		checkAddr(fmt.Sprintf("redis.cluster.addrs[%d]", i), a)
	}
	if r.DB != 0 && len(r.Cluster.Addrs) > 0 {
		add("redis.db: Redis Cluster has only database 0")
	}
	if r.WaitReplicas < 0 {
		add("redis.wait_replicas: must not be negative")
	}
	if r.WaitReplicas > 0 && len(r.Cluster.Addrs) > 0 {
		add("redis.wait_replicas: not with Redis Cluster (use it with a standalone master that has replicas, or Sentinel)")
	}
	if d := r.WaitTimeout.D(); d < time.Millisecond || d > 10*time.Second {
		add("redis.wait_timeout: must be between 1ms and 10s")
	}
	if r.DB < 0 {
		add("redis.db: must not be negative")
	}
	r.Password.validate("redis.password", add)
}

func (c *Config) validateTracing(add func(string, ...any)) {
	t := c.Tracing
	if t.OTLPEndpoint != "" {
		if u, err := url.Parse(t.OTLPEndpoint); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			add("tracing.otlp_endpoint: %q is not an http(s) URL such as http://otel-collector:4318", t.OTLPEndpoint)
		}
	}
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		add("tracing.sample_ratio: between 0 and 1")
	}
	if t.ServiceName == "" {
		add("tracing.service_name: required")
	}
}

// ValidateServe adds the rules for `hubid serve`: PostgreSQL, Redis and a
// KEK source are required there.
func (c *Config) ValidateServe() error {
	var p []string
	if c.Postgres.DSN == "" {
		p = append(p, "postgres.dsn: required by hubid serve")
	}
	if len(c.Redis.Modes()) == 0 {
		p = append(p, "redis.addrs: required by hubid serve (or redis.sentinel or redis.cluster)")
	}
	if !c.KEK.Current.IsSet() {
		p = append(p, "kek.current: required by hubid serve (env or file)")
	}
	if len(p) > 0 {
		return &Error{Problems: p}
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
