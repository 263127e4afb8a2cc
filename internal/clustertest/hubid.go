package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BuildHubid builds ./cmd/hubid into dir and returns the binary's path
// (once per test package: call it from TestMain or a sync.Once).
func BuildHubid(dir string) (string, error) {
	bin := filepath.Join(dir, "hubid")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/customerhub/hubid/cmd/hubid")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build cmd/hubid: %w\n%s", err, out)
	}
	return bin, nil
}

// Deployment is one hubid deployment: replicas sharing one PostgreSQL
// schema, one Redis key space and one KEK.
type Deployment struct {
	Bin      string
	Dir      string
	Issuer   string   // the URL clients use (nginx's, or a replica's own)
	Env      []string // the environment of every hubid process (HUBID_KEK)
	Replicas []*Replica
	owner    testing.TB // the test the deployment lives for
}

// Replica is one `hubid serve` of a Deployment.
type Replica struct {
	Name               string
	Port, InternalPort int
	Config             string // its configuration file
	Proc               *Proc  // nil until started
	d                  *Deployment
}

// Addr is the replica's public host:port.
func (r *Replica) Addr() string { return Addr(r.Port) }

// DeploymentOptions describe a Deployment.
type DeploymentOptions struct {
	Bin    string
	Issuer string
	// DSN is the PostgreSQL DSN (a schema of its own for the test).
	DSN string
	// Redis is the YAML of the redis section's body, indented by two
	// spaces (addrs/sentinel/cluster and key_prefix).
	Redis string
	// Ports are the public ports of the replicas; each replica's internal
	// listener (/readyz, /metrics) is on its port + 20.
	Ports []int
	// Seed is a seed file applied before the replicas start.
	Seed string
	// Extra is more YAML appended to every replica's configuration.
	Extra string
	// ShutdownDelay is listen.shutdown_delay: how long a replica serves on
	// after SIGTERM with /readyz answering 503 (0: it stops at once).
	ShutdownDelay time.Duration
}

// NewDeployment writes the replicas' configuration files, migrates the
// schema and applies the seed; it starts no replica.
func NewDeployment(tb testing.TB, dir string, o DeploymentOptions) *Deployment {
	tb.Helper()
	var k [32]byte
	_, _ = rand.Read(k[:])
	d := &Deployment{Bin: o.Bin, Dir: dir, Issuer: o.Issuer, owner: tb,
		Env: append(os.Environ(), "HUBID_KEK="+base64.StdEncoding.EncodeToString(k[:]))}
	for i, port := range o.Ports {
		r := &Replica{Name: "hubid-" + strconv.Itoa(i+1), Port: port, InternalPort: port + 20, d: d}
		r.Config = filepath.Join(dir, r.Name+".yaml")
		conf := fmt.Sprintf(`issuer: %s
listen:
  http: %q
  metrics: %q
  trusted_proxies: [127.0.0.1/32]
  shutdown_delay: %s
postgres:
  dsn: %q
  max_conns: 8
  migrate_on_start: false
redis:
%s
password: {memory_kib: 64, iterations: 1}
log: {level: warn, format: text}
%s`, o.Issuer, r.Addr(), Addr(r.InternalPort), o.ShutdownDelay, o.DSN, o.Redis, o.Extra)
		if err := os.WriteFile(r.Config, []byte(conf), 0o600); err != nil {
			tb.Fatal(err)
		}
		d.Replicas = append(d.Replicas, r)
	}
	d.Run(tb, "migrate", "up", "--config", d.Replicas[0].Config)
	if o.Seed != "" {
		path := filepath.Join(dir, "seed.yaml")
		if err := os.WriteFile(path, []byte(o.Seed), 0o600); err != nil {
			tb.Fatal(err)
		}
		d.Run(tb, "seed", "apply", "--config", d.Replicas[0].Config, path)
	}
	return d
}

// Run runs a hubid command to completion and returns its output; a
// failure fails the test.
func (d *Deployment) Run(tb testing.TB, args ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.Bin, args...)
	cmd.Env = d.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("hubid %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// StartAll starts every replica that is not running and waits for each
// to be ready.
func (d *Deployment) StartAll(tb testing.TB) {
	tb.Helper()
	for _, r := range d.Replicas {
		if r.Proc == nil || !r.Proc.Alive() {
			r.Start(tb)
		}
	}
}

// Start starts the replica and waits until its /readyz answers 200.
func (r *Replica) Start(tb testing.TB) {
	tb.Helper()
	r.Proc = StartFor(tb, r.d.owner, r.d.Dir, r.Name, r.d.Env, r.d.Bin, "serve", "--config", r.Config)
	WaitFor(tb, r.Proc, 60*time.Second, r.Name, func(ctx context.Context) error { return GetOK(ctx, r.ReadyURL()) })
}

// ReadyURL is the replica's /readyz, which a load balancer probes.
func (r *Replica) ReadyURL() string { return fmt.Sprintf("http://%s/readyz", Addr(r.InternalPort)) }

// GetOK GETs url and wants 200.
func GetOK(ctx context.Context, url string) error { return GetStatus(ctx, url, http.StatusOK) }

// GetStatus GETs url and wants the status want.
func GetStatus(ctx context.Context, url string, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: %s, want %d", url, resp.Status, want)
	}
	return nil
}
