package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
)

// The handler's context carries the deadline, and a request that ran out
// of time is logged; one that did not is not.
func TestDeadline(t *testing.T) {
	var logs testenv.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var got time.Time
	h := Deadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = r.Context().Deadline()
		if r.URL.Path == "/hang" {
			<-r.Context().Done() // a hung dependency: only the deadline ends it
			if !errors.Is(r.Context().Err(), context.DeadlineExceeded) {
				t.Errorf("ended by %v", r.Context().Err())
			}
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}), 50*time.Millisecond, log)

	before := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/fast", nil))
	if got.IsZero() || got.Before(before) || got.After(time.Now().Add(50*time.Millisecond)) {
		t.Fatalf("deadline %v not about 50ms from %v", got, before)
	}
	if strings.Contains(logs.String(), "deadline exceeded") {
		t.Fatalf("a fast request was logged: %s", logs.String())
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hang", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(logs.String(), "request deadline exceeded") {
		t.Fatalf("hung request: %d, logs %s", rec.Code, logs.String())
	}
}
