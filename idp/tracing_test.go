package idp_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/httpx"
	"github.com/customerhub/hubid/idp/tracing"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/internal/testenv"
)

// A sign-in through the public handler, on PostgreSQL and Redis, is one
// trace: an HTTP server span whose children are the PostgreSQL queries and
// Redis commands it made, and the request's access log line carries the
// same trace_id and span_id.
func TestTracingSpansAndLogsShareTheTrace(t *testing.T) {
	exp, tr := inMemoryTracing()
	logs := &testenv.Buffer{}
	log := slog.New(httpx.ContextHandler{Handler: slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})})
	env := hubtest.New(t, hubtest.Options{Backend: "external", Tracing: tr, Logger: log})
	ships := newRP(t, env, "ships", "ships-secret-0123456789-0123456789-abcd", "svc")
	env.AddUser(t, hubtest.User{Email: "aiko@example.com", Password: testPassword, Org: "O", Service: "svc"})
	signedIn(t, env, ships)

	spans := exp.GetSpans()
	http := serverSpan(t, spans, "POST /login/password")
	children := map[string]int{}
	for _, c := range storageCalls(spans, http) {
		children[c.system]++
	}
	if children["postgresql"] == 0 || children["redis"] == 0 {
		t.Fatalf("server span's storage children: %v (want postgresql and redis)", children)
	}
	// Background work (signing-key reloads) makes no root spans of its own.
	for _, s := range spans {
		if !s.Parent.IsValid() && s.SpanKind != trace.SpanKindServer {
			t.Errorf("root span %q outside a request", s.Name)
		}
	}

	found := false
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line["msg"] != "http" || line["method"] != "POST" || line["path"] != "/login/password" {
			continue
		}
		found = true
		if line["trace_id"] != http.SpanContext.TraceID().String() || line["span_id"] != http.SpanContext.SpanID().String() {
			t.Errorf("access log %v: want trace_id %s span_id %s", line, http.SpanContext.TraceID(), http.SpanContext.SpanID())
		}
		if line["request_id"] == nil {
			t.Errorf("access log lost its request_id: %v", line)
		}
	}
	if !found {
		t.Fatalf("no access log line for /login/password:\n%s", logs)
	}
}

// inMemoryTracing samples every request into an in-memory exporter.
func inMemoryTracing() (*tracetest.InMemoryExporter, *tracing.Tracing) {
	exp := tracetest.NewInMemoryExporter()
	tc := config.Defaults().Tracing
	tc.SampleRatio = 1
	return exp, tracing.WithExporter(tc, "test", sdktrace.WithSyncer(exp))
}

// serverSpan returns the last server span named name ("GET /login").
func serverSpan(t testing.TB, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name && s.SpanKind == trace.SpanKindServer {
			found = s
		}
	}
	if !found.SpanContext.IsValid() {
		t.Fatalf("no server span for %s among %d spans", name, len(spans))
	}
	return found
}

// storageCall is a PostgreSQL or Redis call a request made.
type storageCall struct {
	system string // "postgresql", "redis"
	text   string // the statement or command; empty for a pool.acquire
}

// storageCalls lists the storage calls made directly under parent.
func storageCalls(spans tracetest.SpanStubs, parent tracetest.SpanStub) []storageCall {
	var out []storageCall
	for _, s := range spans {
		if s.Parent.SpanID() != parent.SpanContext.SpanID() {
			continue
		}
		var c storageCall
		for _, a := range s.Attributes {
			switch a.Key {
			case "db.system.name", "db.system":
				c.system = a.Value.AsString()
			case "db.query.text", "db.statement":
				c.text = a.Value.AsString()
			}
		}
		if c.system != "" {
			out = append(out, c)
		}
	}
	return out
}
