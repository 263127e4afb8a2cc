package idp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type pingFunc func(ctx context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

// /readyz answers within 1 s even when a backend hangs: every ping gets a
// deadline under 1 s (a hung one is ended by it and reported down).
func TestReadyzIsBoundedBelowOneSecond(t *testing.T) {
	start := time.Now()
	var deadline time.Time
	hung := pingFunc(func(ctx context.Context) error {
		deadline, _ = ctx.Deadline()
		return ctx.Err() // as a hung ping ends: by the deadline (not waited for here)
	})
	failed := pingFunc(func(ctx context.Context) error { return errors.New("down") })
	ok := pingFunc(func(ctx context.Context) error { return nil })
	rec := httptest.NewRecorder()
	readyz([]Check{{"postgres", hung}, {"redis", failed}, {"memory", ok}})(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if deadline.IsZero() || deadline.Sub(start) >= time.Second {
		t.Fatalf("ping deadline %v after the start, want under 1s", deadline.Sub(start))
	}
	var body struct {
		Status string
		Checks map[string]string
	}
	_ = json.NewDecoder(rec.Body).Decode(&body)
	if rec.Code != http.StatusServiceUnavailable || body.Checks["redis"] != "down" || body.Checks["memory"] != "ok" {
		t.Fatalf("readyz: %d %+v", rec.Code, body)
	}
}
