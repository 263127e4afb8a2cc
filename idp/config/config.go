// Package config reads hubid's YAML configuration in two stages: a strict
// decode (an unknown key is an error) and Validate, which reports every
// problem at once. Secrets are never in the file: SecretRef points at an
// environment variable or a file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration file. Zero values are replaced by
// Defaults before validation.
type Config struct {
	Issuer   string   `yaml:"issuer"`
	Listen   Listen   `yaml:"listen"`
	Postgres Postgres `yaml:"postgres"`
	Redis    Redis    `yaml:"redis"`
	Sessions Sessions `yaml:"sessions"`
	Tokens   Tokens   `yaml:"tokens"`
	Keys     Keys     `yaml:"keys"`
	Password Password `yaml:"password"`
	Throttle Throttle `yaml:"throttle"`
	SMTP     SMTP     `yaml:"smtp"`
	KEK      KEK      `yaml:"kek"`
	Helpdesk Helpdesk `yaml:"helpdesk"`
	Log      Log      `yaml:"log"`
	Audit    Audit    `yaml:"audit"`
	Admin    Admin    `yaml:"admin"`
	Tracing  Tracing  `yaml:"tracing"`

	Migration Migration `yaml:"migration"`
}

// Listen holds the listen addresses.
type Listen struct {
	HTTP           string   `yaml:"http"`            // public: OIDC endpoints and pages
	Metrics        string   `yaml:"metrics"`         // internal: /metrics, /healthz, /readyz
	TrustedProxies []string `yaml:"trusted_proxies"` // CIDRs whose X-Forwarded-For is honoured
	// RequestTimeout bounds every request on the public listener: its
	// context (which every storage call inherits) ends then, so a hung
	// PostgreSQL or Redis yields a 503 within about this time.
	RequestTimeout Duration `yaml:"request_timeout"`
	// ShutdownDelay is how long a stopping server (SIGTERM) keeps serving
	// after /readyz turned 503, so that the load balancer takes it out
	// of rotation before it stops accepting connections. 0: stop at once
	// (hubid dev).
	ShutdownDelay Duration `yaml:"shutdown_delay"`
	// ShutdownTimeout bounds the wait for in-flight requests after the
	// delay; those still running then are cut.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// Postgres is the durable store.
type Postgres struct {
	DSN            string    `yaml:"dsn"`      // without the password
	Password       SecretRef `yaml:"password"` // added to the DSN when set
	MaxConns       int32     `yaml:"max_conns"`
	MigrateOnStart bool      `yaml:"migrate_on_start"`
}

// Redis is the ephemeral store: exactly one of a standalone server
// (Addrs), Sentinel (Sentinel) or Cluster (Cluster) for hubid serve.
type Redis struct {
	Addrs     []string      `yaml:"addrs"` // standalone: the server (host:port)
	Sentinel  RedisSentinel `yaml:"sentinel"`
	Cluster   RedisCluster  `yaml:"cluster"`
	Username  string        `yaml:"username"` // data nodes (ACL user)
	Password  SecretRef     `yaml:"password"` // data nodes
	DB        int           `yaml:"db"`
	TLS       bool          `yaml:"tls"`
	KeyPrefix string        `yaml:"key_prefix"`
	// WaitReplicas > 0 makes every write wait until that many replicas
	// have it (Redis WAIT, at most WaitTimeout and never past the
	// request's deadline); a write they do not acknowledge in time fails
	// as "temporarily unavailable". With Sentinel and one replica, 1
	// means a failover loses nothing hubid answered for; the cost is a
	// replica round trip per write, and writes fail while no replica is
	// connected. Standalone (with replicas) and Sentinel only.
	WaitReplicas int      `yaml:"wait_replicas"`
	WaitTimeout  Duration `yaml:"wait_timeout"`
}

// RedisSentinel reaches a master through Redis Sentinel.
type RedisSentinel struct {
	MasterName string    `yaml:"master_name"` // the name the Sentinels monitor
	Addrs      []string  `yaml:"addrs"`       // the Sentinels (host:port)
	Username   string    `yaml:"username"`    // the Sentinels' own ACL user, if any
	Password   SecretRef `yaml:"password"`    // the Sentinels' own password, if any
}

// RedisCluster reaches a Redis Cluster.
type RedisCluster struct {
	Addrs []string `yaml:"addrs"` // seed nodes (host:port); the rest are discovered
}

// Redis modes, as RedisMode names them.
const (
	RedisStandalone   = "standalone"
	RedisSentinelMode = "sentinel"
	RedisClusterMode  = "cluster"
)

// Modes lists the Redis modes the file configures (any of standalone,
// sentinel, cluster); hubid serve needs exactly one.
func (r Redis) Modes() []string {
	var m []string
	if len(r.Addrs) > 0 {
		m = append(m, RedisStandalone)
	}
	if r.Sentinel.MasterName != "" || len(r.Sentinel.Addrs) > 0 {
		m = append(m, RedisSentinelMode)
	}
	if len(r.Cluster.Addrs) > 0 {
		m = append(m, RedisClusterMode)
	}
	return m
}

// Tracing configures OpenTelemetry tracing, exported over OTLP/HTTP.
type Tracing struct {
	// OTLPEndpoint is the collector's OTLP/HTTP base URL, e.g.
	// http://otel-collector:4318 (spans go to /v1/traces). "" = off.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// SampleRatio is the share of new traces recorded (0..1); a request
	// that arrives with a sampled traceparent is always recorded.
	SampleRatio float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name resource attribute.
	ServiceName string `yaml:"service_name"`
}

// Sessions are the browser SSO session lifetimes.
type Sessions struct {
	RememberIdle     Duration `yaml:"remember_idle"`     // "automatically sign in": sliding
	RememberAbsolute Duration `yaml:"remember_absolute"` // cap even while used
	BrowserIdle      Duration `yaml:"browser_idle"`      // without the checkbox
	TouchInterval    Duration `yaml:"touch_interval"`    // at most one sliding write per interval
	AuthRequestTTL   Duration `yaml:"auth_request_ttl"`  // time to finish signing in
}

// Tokens are token lifetimes and policies.
type Tokens struct {
	AccessTTL               Duration `yaml:"access_ttl"`
	IDTokenTTL              Duration `yaml:"id_token_ttl"`
	CodeTTL                 Duration `yaml:"code_ttl"`
	RefreshIdle             Duration `yaml:"refresh_idle"`
	RefreshAbsolute         Duration `yaml:"refresh_absolute"`
	RefreshReuseGrace       Duration `yaml:"refresh_reuse_grace"`
	RequirePKCEConfidential *bool    `yaml:"require_pkce_confidential"`
	IDTokenSigningAlgorithm string   `yaml:"id_token_signing_algorithm"`
}

// Keys configures signing keys and their rotation.
type Keys struct {
	Algorithms     []string `yaml:"algorithms"` // RS256 always included
	RSABits        int      `yaml:"rsa_bits"`
	RotationPeriod Duration `yaml:"rotation_period"`
	PublishBefore  Duration `yaml:"publish_before"` // JWKS cache time: a key is published this long before it signs
	ClockSkew      Duration `yaml:"clock_skew"`
}

// Password holds the argon2id parameters and the password policy.
type Password struct {
	MemoryKiB   uint32 `yaml:"memory_kib"`
	Iterations  uint32 `yaml:"iterations"`
	Parallelism uint8  `yaml:"parallelism"`
	MinLength   int    `yaml:"min_length"`
}

// Throttle limits failed sign-ins.
type Throttle struct {
	DelayAfter int      `yaml:"delay_after"` // failures before delays start
	LockAfter  int      `yaml:"lock_after"`  // failures that lock for the rest of the window
	Window     Duration `yaml:"window"`
}

// SMTP is the outgoing mail server.
type SMTP struct {
	Host     string    `yaml:"host"`
	Port     int       `yaml:"port"`
	Username string    `yaml:"username"`
	Password SecretRef `yaml:"password"`
	From     string    `yaml:"from"`
	TLS      string    `yaml:"tls"` // starttls (default), implicit, none (loopback only)
}

// KEK is the key-encryption key source for secrets at rest.
type KEK struct {
	Current  SecretRef   `yaml:"current"`  // default: env HUBID_KEK
	Previous []SecretRef `yaml:"previous"` // older KEKs, to open and reseal
}

// Helpdesk is shown on error pages and in mail.
type Helpdesk struct {
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
	URL   string `yaml:"url"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json, text
}

// Audit configures the usage history.
type Audit struct {
	Retention Duration `yaml:"retention"`
}

// Admin configures the admin API (signing keys), served on listen.metrics.
type Admin struct {
	// Token is the bearer token admin requests must present. Unset: the
	// admin API is off (404).
	Token SecretRef `yaml:"token"`
	// Clients lists the client IDs that may obtain the hubid:admin scope
	// with client_credentials and so call /admin/v1 as operators. No other
	// client can get the scope.
	Clients []string `yaml:"clients"`
}

// Defaults returns the configuration used for every key the file leaves out.
func Defaults() Config {
	t := true
	return Config{
		Listen: Listen{HTTP: ":8080", Metrics: ":9090", RequestTimeout: Duration(3 * time.Second),
			ShutdownDelay: Duration(5 * time.Second), ShutdownTimeout: Duration(20 * time.Second)},
		Postgres: Postgres{MaxConns: 20, MigrateOnStart: true},
		Redis:    Redis{KeyPrefix: "hubid:", WaitTimeout: Duration(500 * time.Millisecond)},
		Sessions: Sessions{
			RememberIdle:     Duration(14 * 24 * time.Hour),
			RememberAbsolute: Duration(30 * 24 * time.Hour),
			BrowserIdle:      Duration(12 * time.Hour),
			TouchInterval:    Duration(time.Minute),
			AuthRequestTTL:   Duration(30 * time.Minute),
		},
		Tokens: Tokens{
			AccessTTL:               Duration(15 * time.Minute),
			IDTokenTTL:              Duration(time.Hour),
			CodeTTL:                 Duration(60 * time.Second),
			RefreshIdle:             Duration(14 * 24 * time.Hour),
			RefreshAbsolute:         Duration(90 * 24 * time.Hour),
			RefreshReuseGrace:       0, // strict: reuse of a rotated token revokes the family
			RequirePKCEConfidential: &t,
			IDTokenSigningAlgorithm: "RS256",
		},
		Keys: Keys{
			Algorithms:     []string{"RS256"},
			RSABits:        2048,
			RotationPeriod: Duration(30 * 24 * time.Hour),
			PublishBefore:  Duration(24 * time.Hour),
			ClockSkew:      Duration(5 * time.Minute),
		},
		Password: Password{MemoryKiB: 19456, Iterations: 2, Parallelism: 1, MinLength: 8},
		Throttle: Throttle{DelayAfter: 5, LockAfter: 20, Window: Duration(15 * time.Minute)},
		SMTP:     SMTP{Port: 587, TLS: "starttls"},
		KEK:      KEK{Current: SecretRef{Env: "HUBID_KEK"}},
		Log:      Log{Level: "info", Format: "json"},
		Audit:    Audit{Retention: Duration(400 * 24 * time.Hour)},
		Tracing:  Tracing{SampleRatio: 0.1, ServiceName: "hubid"},

		Migration: Migration{FirstRole: "administrator", LaterRole: "normal", ReminderLanguage: "both"},
	}
}

// Parse strictly decodes YAML over Defaults and validates the result. The
// error lists every decoding and validation problem found.
func Parse(data []byte) (Config, error) {
	c := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var problems []string
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			problems = append(problems, te.Errors...)
		} else {
			return c, &Error{Problems: []string{err.Error()}}
		}
	}
	if err := c.Validate(); err != nil {
		var ve *Error
		if errors.As(err, &ve) {
			problems = append(problems, ve.Problems...)
		}
	}
	if len(problems) > 0 {
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// Load reads and parses a configuration file.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// LoadServe reads a file for `hubid serve`: decoding, Validate and
// ValidateServe problems are all reported together.
func LoadServe(path string) (Config, error) {
	c, err := Load(path)
	var problems []string
	if err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			return c, err
		}
		problems = ce.Problems
	}
	if err := c.ValidateServe(); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			problems = append(problems, ce.Problems...)
		}
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("%s: %w", path, &Error{Problems: problems})
	}
	return c, nil
}

// Error lists every problem in a configuration.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return fmt.Sprintf("%d problem(s):\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}
