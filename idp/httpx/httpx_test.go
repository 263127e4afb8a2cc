package httpx

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestWrapAddsRequestIDToResponseAndLogs(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(ContextHandler{slog.NewJSONHandler(&logs, nil)})
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusTeapot)
	}), log, m, func(string) string { return "/x" })

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	id := w.Header().Get("X-Request-ID")
	if len(id) != 24 || strings.Count(logs.String(), `"request_id":"`+id+`"`) != 2 {
		t.Fatalf("request id %q not in both log lines:\n%s", id, logs.String())
	}
	// A well-formed incoming ID is kept; a hostile one is replaced.
	for in, keep := range map[string]bool{"abc-123.DEF_4": true, "bad id\n": false, strings.Repeat("a", 65): false} {
		w = httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/x", nil)
		r.Header.Set("X-Request-ID", in)
		h.ServeHTTP(w, r)
		if (w.Header().Get("X-Request-ID") == in) != keep {
			t.Errorf("incoming %q: got %q", in, w.Header().Get("X-Request-ID"))
		}
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/x", "418")); got != 4 {
		t.Fatalf("metric counted %v requests, want 4", got)
	}
}

func TestWrapRecoversWithoutLeaking(t *testing.T) {
	var logs bytes.Buffer
	h := Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state")
	}), slog.New(slog.NewTextHandler(&logs, nil)), nil, func(string) string { return "x" })
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("%d %q", w.Code, w.Body.String())
	}
	if !strings.Contains(logs.String(), "secret internal state") {
		t.Fatal("the panic must be logged")
	}
}

func TestSecurityHeadersAndNoStore(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, https := range []bool{false, true} {
		w := httptest.NewRecorder()
		SecurityHeaders(NoStore(ok), https).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		h := w.Header()
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", h)
		}
		if (h.Get("Strict-Transport-Security") != "") != https {
			t.Fatalf("https=%v: HSTS %q", https, h.Get("Strict-Transport-Security"))
		}
	}
}
