package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/customerhub/hubid/internal/otlptest"
	"github.com/customerhub/hubid/internal/testenv"
)

// hubid serve with tracing.otlp_endpoint exports its spans to that
// collector: a request's server span, and under it the PostgreSQL query
// that looked up the client; the last spans are flushed at shutdown.
func TestServeExportsTracesWhenConfigured(t *testing.T) {
	dsn := testenv.Postgres(t)
	redisAddr, prefix := testenv.Redis(t)
	collector := otlptest.New(t)
	addr := testenv.FreeAddr(t)
	t.Setenv("HUBID_TEST_KEK", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	cfg := filepath.Join(t.TempDir(), "hubid.yaml")
	writeFile(t, cfg, "issuer: http://"+addr+"\nlisten:\n  http: "+addr+"\n  metrics: \"\"\n  shutdown_delay: 0s\n"+
		"postgres:\n  dsn: "+dsn+"\nredis:\n  addrs: ["+redisAddr+"]\n  key_prefix: \""+prefix+"\"\n"+
		"kek:\n  current: {env: HUBID_TEST_KEK}\nlog:\n  level: error\n"+
		"tracing:\n  otlp_endpoint: "+collector.URL+"\n  sample_ratio: 1\n  service_name: hubid-serve-test\n")
	out, stop := runAsync(t, "serve", "--config", cfg)
	waitGet(t, "http://"+addr+"/healthz", http.StatusOK)
	// An unknown client authenticating: the lookup reaches PostgreSQL.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("nobody", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token request of an unknown client: %d", resp.StatusCode)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}

	var server *otlptest.Span
	spans := collector.Spans()
	for i, s := range spans {
		if s.Name == "POST /oauth/token" {
			server = &spans[i]
		}
	}
	if server == nil || server.Service != "hubid-serve-test" {
		t.Fatalf("no POST /oauth/token span from hubid-serve-test among %d spans", len(spans))
	}
	for _, s := range spans {
		if bytes.Equal(s.ParentSpanId, server.SpanId) && s.Attr("db.system.name") == "postgresql" {
			return
		}
	}
	for _, s := range spans {
		t.Logf("%s parent=%x attr=%q", s.Name, s.ParentSpanId, s.Attr("db.system.name"))
	}
	t.Fatalf("no postgresql span under POST /oauth/token (trace %s)", hex.EncodeToString(server.TraceId))
}
