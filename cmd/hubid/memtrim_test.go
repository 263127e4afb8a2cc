package main

import (
	"context"
	"net/http"
	"runtime"
	"testing"

	"github.com/customerhub/hubid/internal/memtrim"
)

// Once serving, hubid hands back the memory only start-up needed
// (internal/memtrim) and goes on answering: the pages a request needs are
// mapped again on first touch.
func TestServeReturnsStartupMemory(t *testing.T) {
	c, err := devConfig("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Log.Level = "error"
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	e, err := openDev(ctx, c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	bound := make(chan listeners, 1)
	settled := make(chan memtrim.Result, 1)
	done := make(chan error, 1)
	go func() {
		done <- serveEnv(ctx, e, serveHooks{
			ready:   func(ls listeners) { bound <- ls },
			settled: func(r memtrim.Result) { settled <- r },
		})
	}()
	var r memtrim.Result
	var ls listeners
	for range 2 {
		select {
		case ls = <-bound:
		case r = <-settled:
		case err := <-done:
			t.Fatalf("serve ended before serving: %v", err)
		}
	}
	if runtime.GOOS == "linux" && (r.Err != nil || r.Executable <= 0) {
		t.Fatalf("start-up trim: %d bytes, %v", r.Executable, r.Err)
	}
	resp, err := http.Get("http://" + ls.public.Addr().String() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery after the trim: %d", resp.StatusCode)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
