package idp

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// Pinger is a backend that can say whether it answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Check is one named readiness check.
type Check struct {
	Name string // "postgres", "redis", "sqlite", "memory"
	P    Pinger
}

// healthz answers 200 while the process is up.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// readyTimeout bounds each readiness ping; the pings run in parallel, so
// /readyz answers within about this time (under 1 s) even when a backend
// hangs.
const readyTimeout = 900 * time.Millisecond

// pingAll pings every backend in parallel, readyTimeout each, and
// returns each one's error (nil: it answered) by name.
func pingAll(ctx context.Context, checks []Check) map[string]error {
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, len(checks))
	for _, c := range checks {
		go func() {
			ctx, cancel := context.WithTimeout(ctx, readyTimeout)
			defer cancel()
			ch <- result{c.Name, c.P.Ping(ctx)}
		}()
	}
	out := make(map[string]error, len(checks))
	for range checks {
		res := <-ch
		out[res.name] = res.err
	}
	return out
}

// readyz pings every backend (in parallel, readyTimeout each) and answers
// 503 naming the ones that are down. Once draining reports true (the
// process is stopping) it answers 503 "draining" at once, without pinging:
// the load balancer takes the replica out while it still serves.
func readyz(checks []Check, draining func() bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if draining() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"draining"}` + "\n"))
			return
		}
		status := map[string]string{}
		var down []string
		for name, err := range pingAll(r.Context(), checks) {
			if err != nil {
				status[name] = "down"
				down = append(down, name)
			} else {
				status[name] = "ok"
			}
		}
		slices.Sort(down)
		body := map[string]any{"status": "ok", "checks": status}
		code := http.StatusOK
		if len(down) > 0 {
			body["status"] = "unavailable"
			body["down"] = down
			code = http.StatusServiceUnavailable
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
}
