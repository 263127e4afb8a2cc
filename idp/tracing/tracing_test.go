package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/tracing"
	"github.com/customerhub/hubid/internal/otlptest"
)

// By default tracing is off: no exporter is built, nothing is wrapped and
// the storage instruments are nil.
func TestOffByDefaultBuildsNoExporter(t *testing.T) {
	built := false
	tr, err := tracing.New(context.Background(), config.Defaults().Tracing, "test",
		func(context.Context, string) (sdktrace.SpanExporter, error) {
			built = true
			return nil, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if built || tr.Enabled() || tr.Provider() != nil || tr.Postgres() != nil {
		t.Fatalf("tracing off by default: built=%v enabled=%v", built, tr.Enabled())
	}
	h := http.NotFoundHandler()
	if got := tr.Handler(h, func(string) string { return "x" }); got == nil {
		t.Fatal("nil handler")
	}
	if err := tr.Redis(nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// With tracing.otlp_endpoint set, a traced request's server span reaches
// the collector over OTLP/HTTP at /v1/traces, with the service name, by
// the time Shutdown returns; probes listed as skipped make no span.
func TestOTLPExportReachesTheCollector(t *testing.T) {
	collector := otlptest.New(t)
	c := config.Defaults().Tracing
	c.OTLPEndpoint, c.SampleRatio, c.ServiceName = collector.URL+"/", 1, "hubid-test"
	tr, err := tracing.New(context.Background(), c, "v1.2.3", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() || tr.Postgres() == nil {
		t.Fatal("tracing should be on")
	}
	app := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		func(p string) string { return p }, "/healthz")
	for _, p := range []string{"/oauth/token", "/healthz"} {
		app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, p, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	spans := collector.Spans()
	if len(spans) != 1 || spans[0].Name != "POST /oauth/token" || spans[0].Service != "hubid-test" {
		t.Fatalf("collector received %v", spans)
	}
}
