package deploy

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/customerhub/hubid/idp/config"
)

type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Command     []string       `yaml:"command"`
		Ports       []string       `yaml:"ports"`
		Volumes     []string       `yaml:"volumes"`
		ReadOnly    bool           `yaml:"read_only"`
		Environment map[string]any `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// TestCompose checks deploy/compose.yaml's structure (PostgreSQL, Redis
// with AOF, a migration one-shot the replicas wait for, two replicas,
// nginx on 443) and the hubid configuration it mounts against the
// configuration schema: strict decoding, Validate and ValidateServe.
func TestCompose(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&cf); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	s := cf.Services
	for _, name := range []string{"postgres", "redis", "migrate", "hubid-1", "hubid-2", "nginx"} {
		if _, ok := s[name]; !ok {
			t.Errorf("compose.yaml: no service %s", name)
		}
	}
	if c := strings.Join(s["redis"].Command, " "); !strings.Contains(c, "--appendonly yes") {
		t.Errorf("redis: AOF is off: %q", c)
	}
	if c := strings.Join(s["migrate"].Command, " "); !strings.HasPrefix(c, "migrate up --config /etc/hubid/hubid.yaml") {
		t.Errorf("migrate: command %q", c)
	}
	for _, r := range []string{"hubid-1", "hubid-2"} {
		svc := s[r]
		if svc.DependsOn["migrate"].Condition != "service_completed_successfully" {
			t.Errorf("%s: does not wait for the migration", r)
		}
		if !svc.ReadOnly || !slices.Contains(svc.Volumes, "./compose/hubid.yaml:/etc/hubid/hubid.yaml:ro") {
			t.Errorf("%s: read_only %v, volumes %v", r, svc.ReadOnly, svc.Volumes)
		}
		if _, ok := svc.Environment["HUBID_KEK"]; !ok {
			t.Errorf("%s: no HUBID_KEK", r)
		}
	}
	if !slices.ContainsFunc(s["nginx"].Ports, func(p string) bool { return strings.HasSuffix(p, ":443") }) {
		t.Errorf("nginx: no port 443: %v", s["nginx"].Ports)
	}
	nginx, err := os.ReadFile("compose/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listen 443 ssl", "server hubid-1:8080", "server hubid-2:8080", "X-Forwarded-For"} {
		if !strings.Contains(string(nginx), want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}

	c, err := config.Load("compose/hubid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateServe(); err != nil {
		t.Fatal(err)
	}
	if c.Postgres.MigrateOnStart {
		t.Error("compose/hubid.yaml: the migrate one-shot migrates; migrate_on_start must be false")
	}
	if !strings.HasPrefix(c.Issuer, "https://") {
		t.Errorf("issuer %q is not https", c.Issuer)
	}
	for _, env := range []string{c.KEK.Current.Env, c.Postgres.Password.Env} {
		if env != "" && !strings.Contains(string(raw), env+":") {
			t.Errorf("the configuration reads %s, which compose.yaml does not set", env)
		}
	}
}
