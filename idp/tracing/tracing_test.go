package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/tracing"
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
	var mu sync.Mutex
	var got []*collectortrace.ExportTraceServiceRequest
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, &req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	defer collector.Close()

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

	mu.Lock()
	defer mu.Unlock()
	var names []string
	service := ""
	for _, req := range got {
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					service = a.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names = append(names, s.Name)
				}
			}
		}
	}
	if len(names) != 1 || names[0] != "POST /oauth/token" || service != "hubid-test" {
		t.Fatalf("collector received spans %q from service %q", names, service)
	}
}
