package idp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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
	readyz([]Check{{"postgres", hung}, {"redis", failed}, {"memory", ok}}, func() bool { return false })(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
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

// A draining server answers 503 "draining" at once, without asking its
// backends (which are fine): the load balancer takes it out of rotation
// while it still serves.
func TestReadyzDraining(t *testing.T) {
	var draining bool
	var pinged atomic.Int32 // the checks run in parallel
	ok := pingFunc(func(context.Context) error { pinged.Add(1); return nil })
	h := readyz([]Check{{"postgres", ok}, {"redis", ok}}, func() bool { return draining })
	for _, tc := range []struct {
		draining bool
		code     int
		status   string
		pings    int32
	}{{false, http.StatusOK, "ok", 2}, {true, http.StatusServiceUnavailable, "draining", 0}} {
		draining = tc.draining
		pinged.Store(0)
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body struct{ Status string }
		_ = json.NewDecoder(rec.Body).Decode(&body)
		if rec.Code != tc.code || body.Status != tc.status || pinged.Load() != tc.pings {
			t.Errorf("draining=%v: %d %q after %d pings, want %d %q after %d", tc.draining, rec.Code, body.Status, pinged.Load(), tc.code, tc.status, tc.pings)
		}
	}
}
