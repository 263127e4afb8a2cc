// Package tracing is hubid's OpenTelemetry tracing: a tracer provider that
// exports spans over OTLP/HTTP when tracing.otlp_endpoint is set, and the
// instrumentation that hangs off it — HTTP server spans (otelhttp), one
// child span per PostgreSQL call (otelpgx) and per Redis command
// (redisotel). Tracing is off by default: then New builds no exporter and
// every instrument is nil, so nothing is wrapped and nothing costs.
//
// Nothing here is process-global: the provider is handed to each
// instrument explicitly (no otel.SetTracerProvider).
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/extra/redisotel/v9"
	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/customerhub/hubid/idp/config"
)

// Tracing is a configured tracer provider, or nothing (tracing off). The
// zero value and nil are "off".
type Tracing struct {
	provider *sdktrace.TracerProvider
}

// ExporterFunc builds the span exporter for an OTLP/HTTP base URL.
type ExporterFunc func(ctx context.Context, endpoint string) (sdktrace.SpanExporter, error)

// OTLP is the production exporter: OTLP/HTTP (protobuf) to
// endpoint + "/v1/traces"; an http:// endpoint is sent without TLS.
func OTLP(ctx context.Context, endpoint string) (sdktrace.SpanExporter, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimRight(endpoint, "/")+"/v1/traces"))
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	return exp, nil
}

// New returns tracing as c configures it: off (nil, no exporter built)
// while c.OTLPEndpoint is empty, else a provider that samples
// c.SampleRatio of new traces (always following a caller's sampled
// traceparent) and exports in batches through newExporter (nil: OTLP).
// version is the service.version resource attribute.
func New(ctx context.Context, c config.Tracing, version string, newExporter ExporterFunc) (*Tracing, error) {
	if c.OTLPEndpoint == "" {
		return nil, nil
	}
	if newExporter == nil {
		newExporter = OTLP
	}
	exp, err := newExporter(ctx, c.OTLPEndpoint)
	if err != nil {
		return nil, err
	}
	return WithExporter(c, version, sdktrace.WithBatcher(exp)), nil
}

// WithExporter builds tracing around a span processor option (tests use
// sdktrace.WithSyncer with an in-memory exporter).
func WithExporter(c config.Tracing, version string, processor sdktrace.TracerProviderOption) *Tracing {
	res := resource.NewSchemaless(
		attribute.String("service.name", c.ServiceName),
		attribute.String("service.version", version),
	)
	return &Tracing{provider: sdktrace.NewTracerProvider(
		processor,
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.SampleRatio))),
	)}
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.provider != nil }

// Provider is the tracer provider (nil when off).
func (t *Tracing) Provider() trace.TracerProvider {
	if !t.Enabled() {
		return nil
	}
	return t.provider
}

// Shutdown flushes the spans still queued and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// Postgres is the pgx tracer for postgres.Options.Tracer (nil when
// off): a span per query, batch, COPY, prepare, connect and pool acquire, named by the SQL operation, with the statement text (never
// its arguments). Calls outside a request (background jobs) make none.
func (t *Tracing) Postgres() pgx.QueryTracer {
	if !t.Enabled() {
		return nil
	}
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(childOnly{p: t.provider}),
		otelpgx.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelpgx.WithTrimSQLInSpanName(),
	)
}

// Redis adds a span per command and pipeline to c (a no-op when off).
// Command arguments — session IDs, token IDs, values — are never
// recorded: only the command name.
func (t *Tracing) Redis(c goredis.UniversalClient) error {
	if !t.Enabled() {
		return nil
	}
	return redisotel.InstrumentTracing(c,
		redisotel.WithTracerProvider(childOnly{p: t.provider}),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
	)
}

// Handler wraps h in an HTTP server span named "METHOD route" (route
// maps a path to a bounded name) that continues a W3C traceparent; skip
// lists exact paths not to trace (probes). When off, h is returned as is.
func (t *Tracing) Handler(h http.Handler, route func(string) string, skip ...string) http.Handler {
	if !t.Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + route(r.URL.Path)
		}),
		otelhttp.WithFilter(func(r *http.Request) bool {
			for _, p := range skip {
				if r.URL.Path == p || strings.HasSuffix(p, "/") && strings.HasPrefix(r.URL.Path, p) {
					return false
				}
			}
			return true
		}),
	)
}

// childOnly is a tracer provider whose tracers start spans only inside a
// sampled trace: storage calls of background jobs (key reloads every
// 2 s, the outbox) would otherwise each be a trace of their own. The
// test is the span context, not whether the span in ctx records: op
// starts spans of its own with the global (no-op) tracer, which put a
// non-recording span carrying the request's span context into ctx, and
// the storage calls under them (the whole token endpoint) belong to the
// request's trace.
type childOnly struct {
	embedded.TracerProvider
	p trace.TracerProvider
}

type childOnlyTracer struct {
	embedded.Tracer
	t trace.Tracer
}

func (c childOnly) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childOnlyTracer{t: c.p.Tracer(name, opts...)}
}

func (c childOnlyTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return c.t.Start(ctx, name, opts...)
}
