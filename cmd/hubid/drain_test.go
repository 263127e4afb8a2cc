package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/config"
)

// get sends one GET on a connection of its own (a client that would keep
// it alive) and returns the status, "close" when the server closes the
// connection after its answer, and the decoded JSON body.
func get(t *testing.T, url string) (int, string, map[string]any) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	conn := resp.Header.Get("Connection")
	if resp.Close {
		conn = "close"
	}
	return resp.StatusCode, conn, body
}

// On SIGTERM (ctx ends) a server with listen.shutdown_delay turns /readyz
// 503 at once and keeps serving — new connections included, each answer
// closing its connection so that clients reconnect elsewhere — until the
// delay is over; then it shuts down within listen.shutdown_timeout. The
// delay's timer is the test's channel: no time passes in this test.
func TestShutdownDelayDrainsBeforeClosing(t *testing.T) {
	c, err := devConfig("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Listen.Metrics = "127.0.0.1:0"
	c.Listen.ShutdownDelay = config.Duration(7 * time.Second)
	c.Listen.ShutdownTimeout = config.Duration(11 * time.Second)
	c.Log.Level = "error"
	ctx, sigterm := context.WithCancel(context.Background())
	defer sigterm()
	e, err := openDev(ctx, c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()

	bound := make(chan listeners, 1)
	asked := make(chan time.Duration, 2) // the durations serve waits for
	endDelay := make(chan time.Time)     // the test ends the delay
	done := make(chan error, 1)
	go func() {
		done <- serveEnv(ctx, e, serveHooks{
			ready: func(ls listeners) { bound <- ls },
			after: func(d time.Duration) <-chan time.Time {
				asked <- d
				if d == c.Listen.ShutdownDelay.D() {
					return endDelay
				}
				return nil // the shutdown timeout: never reached here
			},
		})
	}()
	var ls listeners
	select {
	case ls = <-bound:
	case err := <-done:
		t.Fatalf("serve ended before serving: %v", err)
	}
	public, internal := "http://"+ls.public.Addr().String(), "http://"+ls.internal.Addr().String()
	if code, _, body := get(t, internal+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %v", code, body)
	}
	if _, conn, _ := get(t, public+"/healthz"); conn == "close" {
		t.Fatal("keep-alive off before SIGTERM")
	}

	sigterm()
	if d := <-asked; d != c.Listen.ShutdownDelay.D() {
		t.Fatalf("serve waited %v first, want listen.shutdown_delay %v", d, c.Listen.ShutdownDelay.D())
	}
	// Within the delay: not ready, still serving on new connections.
	if code, _, body := get(t, internal+"/readyz"); code != http.StatusServiceUnavailable || body["status"] != "draining" {
		t.Fatalf("/readyz during the delay: %d %v, want 503 draining", code, body)
	}
	for range 3 {
		code, conn, body := get(t, public+"/.well-known/openid-configuration")
		if code != http.StatusOK || body["issuer"] == nil {
			t.Fatalf("discovery during the delay: %d %v", code, body)
		}
		if conn != "close" {
			t.Fatalf("an answer during the delay keeps its connection (Connection: %q)", conn)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("serve ended before the delay was over: %v", err)
	default:
	}

	close(endDelay)
	if d := <-asked; d != c.Listen.ShutdownTimeout.D() {
		t.Fatalf("shutdown bounded by %v, want listen.shutdown_timeout %v", d, c.Listen.ShutdownTimeout.D())
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(time.Minute): // a guard, not a wait
		t.Fatal("serve did not return after the delay")
	}
	if conn, err := net.Dial("tcp", ls.public.Addr().String()); err == nil {
		conn.Close()
		t.Fatal("the public listener still accepts after the shutdown")
	}
}

// hubid dev stops at once: no load balancer waits for it.
func TestDevHasNoShutdownDelay(t *testing.T) {
	c, err := devConfig("localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen.ShutdownDelay != 0 || config.Defaults().Listen.ShutdownDelay.D() != 5*time.Second {
		t.Fatalf("dev delay %v, serve default %v", c.Listen.ShutdownDelay.D(), config.Defaults().Listen.ShutdownDelay.D())
	}
}
