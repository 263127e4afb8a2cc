package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/customerhub/hubid/internal/memtrim"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/customerhub/hubid/idp"
	"github.com/customerhub/hubid/idp/httpx"
	"github.com/customerhub/hubid/idp/tracing"
	redisstore "github.com/customerhub/hubid/store/redis"
)

func httpxContext(h slog.Handler) slog.Handler { return httpx.ContextHandler{Handler: h} }

func splitListen(listen string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(listen)
	if err != nil {
		return "", "", fmt.Errorf("%w: --listen %q: %v", errUsage, listen, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", "", fmt.Errorf("%w: --listen %q: port must be a number", errUsage, listen)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return host, port, nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := loadServeConfig(*cfgPath)
	if err != nil {
		return err
	}
	tr, err := tracing.New(ctx, c.Tracing, version, nil)
	if err != nil {
		return err
	}
	defer func() {
		// The spans of the last requests may still be queued: send them.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(sctx); err != nil {
			fmt.Fprintln(stderr, "hubid:", err)
		}
	}()
	e, err := openTraced(ctx, c, c.Postgres.MigrateOnStart, tr)
	if err != nil {
		return err
	}
	defer e.close()
	return serveEnv(ctx, e, serveHooks{})
}

// listeners are the bound sockets of a running server.
type listeners struct {
	public, internal net.Listener
}

// serveHooks let callers and tests observe and steer serveEnv; the zero
// value is what `hubid serve` uses.
type serveHooks struct {
	// ready, when not nil, receives the bound listeners once serving.
	ready func(listeners)
	// after is time.After unless set: tests hand out a channel of their
	// own to end listen.shutdown_delay when they choose.
	after func(time.Duration) <-chan time.Time
	// settled, when not nil, receives what memtrim gave back once
	// start-up was over.
	settled func(memtrim.Result)
}

// serveEnv runs the provider on e until ctx ends, then drains and shuts
// down gracefully (stopServing).
func serveEnv(ctx context.Context, e *env, hooks serveHooks) error {
	log := newLogger(e.cfg, os.Stderr)
	// zitadel/oidc logs through the process-wide default (its WithLogger
	// is a no-op), so route it through ours.
	slog.SetDefault(log)
	// go-redis's own log lines, also process-wide (redis.SetLogger).
	redisstore.SetLogger(log)
	adminToken, err := e.cfg.Admin.Token.Resolve(os.Getenv)
	if err != nil {
		return fmt.Errorf("admin.token: %w", err)
	}
	sender, err := e.mailSender()
	if err != nil {
		return err
	}
	rsaSign, err := rsaSigner(log)
	if err != nil {
		return err
	}
	srv, err := idp.New(ctx, idp.Deps{
		AdminToken: adminToken, Mail: sender, DevMailDir: e.devMailDir,
		Config: e.cfg, Durable: e.durable, DurableName: e.durableName,
		Ephemeral: e.ephemeral, EphemeralName: e.ephemeralName,
		Sealer: e.keyring, CryptoSecret: e.kek.Key[:], PreviousCryptoSecrets: e.previousSecrets(),
		Hasher: e.hasher, Tracing: e.tracing, RSASigner: rsaSign,
		Now: time.Now, Rand: rand.Reader, Logger: log,
	})
	if err != nil {
		return err
	}
	var ls listeners
	ls.public, err = net.Listen("tcp", e.cfg.Listen.HTTP)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	servers := []*http.Server{newHTTPServer(srv.Public(), log)}
	bound := []net.Listener{ls.public}
	if e.cfg.Listen.Metrics != "" {
		ls.internal, err = net.Listen("tcp", e.cfg.Listen.Metrics)
		if err != nil {
			_ = ls.public.Close()
			return fmt.Errorf("listen metrics: %w", err)
		}
		servers = append(servers, newHTTPServer(srv.Internal(), log))
		bound = append(bound, ls.internal)
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	go srv.Run(bg)

	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() {
			if err := s.Serve(bound[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	log.Info("hubid serving", slog.String("issuer", e.cfg.Issuer), slog.String("listen", ls.public.Addr().String()),
		slog.String("durable", e.durableName), slog.String("ephemeral", e.ephemeralName))
	if hooks.ready != nil {
		hooks.ready(ls)
	}
	// Start-up is over: hand back what only it needed (its garbage, and
	// the executable's pages package initialization touched).
	trimmed := memtrim.Trim()
	log.Info("start-up memory returned", slog.Int64("executable_bytes_unmapped", trimmed.Executable), slog.Any("err", trimmed.Err))
	if hooks.settled != nil {
		hooks.settled(trimmed)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("server failed", slog.Any("err", err))
	}
	after := hooks.after
	if after == nil {
		after = time.After
	}
	stopServing(stopPlan{
		delay: e.cfg.Listen.ShutdownDelay.D(), timeout: e.cfg.Listen.ShutdownTimeout.D(),
		after: after, log: log, failed: err != nil,
	}, srv.Drain, servers, errc)
	srv.Shutdown()
	return err
}

// stopPlan is how a server stops (listen.shutdown_delay and
// listen.shutdown_timeout).
type stopPlan struct {
	delay, timeout time.Duration
	after          func(time.Duration) <-chan time.Time
	log            *slog.Logger
	failed         bool // a listener failed: no delay, nothing to drain for
}

// stopServing stops the servers (the public one first) the way a load
// balancer needs it:
//
//  1. drain: /readyz answers 503 at once, and the public server stops
//     keeping connections alive (each answer says Connection: close), so
//     clients reconnect — to another replica once the load balancer has
//     seen the 503;
//  2. serve on for delay: requests keep arriving until the load
//     balancer's next probes take the replica out, and are answered;
//  3. Shutdown: the listeners close, requests in flight finish; those
//     still running after timeout are cut.
func stopServing(p stopPlan, drain func(), servers []*http.Server, errc <-chan error) {
	drain()
	servers[0].SetKeepAlivesEnabled(false)
	if p.delay > 0 && !p.failed {
		p.log.Info("stopping: /readyz answers 503; serving on until the load balancer has noticed", slog.Duration("shutdown_delay", p.delay))
		select {
		case <-p.after(p.delay):
		case err := <-errc:
			p.log.Error("server failed while draining", slog.Any("err", err))
		}
	}
	p.log.Info("shutting down: finishing in-flight requests", slog.Duration("shutdown_timeout", p.timeout))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.after(p.timeout):
			cancel()
		case <-ctx.Done():
		}
	}()
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			p.log.Warn("shutdown: requests still running were cut", slog.Any("err", err))
			_ = s.Close()
		}
	}
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func (e *env) previousSecrets() [][]byte {
	var out [][]byte
	for _, k := range e.previousKEKs {
		out = append(out, k.Key[:])
	}
	return out
}
