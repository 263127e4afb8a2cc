package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
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
	return serveEnv(ctx, e, nil)
}

// listeners are the bound sockets of a running server.
type listeners struct {
	public, internal net.Listener
}

// serveEnv runs the provider on e until ctx ends, then shuts down
// gracefully: in-flight requests finish (up to 25 s). ready, when not nil,
// receives the bound listeners once serving.
func serveEnv(ctx context.Context, e *env, ready func(listeners)) error {
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
	srv, err := idp.New(ctx, idp.Deps{
		AdminToken: adminToken, Mail: sender, DevMailDir: e.devMailDir,
		Config: e.cfg, Durable: e.durable, DurableName: e.durableName,
		Ephemeral: e.ephemeral, EphemeralName: e.ephemeralName,
		Sealer: e.keyring, CryptoSecret: e.kek.Key[:], PreviousCryptoSecrets: e.previousSecrets(),
		Hasher: e.hasher, Tracing: e.tracing,
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
	if ready != nil {
		ready(ls)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("server failed", slog.Any("err", err))
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	for _, s := range servers {
		if serr := s.Shutdown(sctx); serr != nil {
			log.Warn("shutdown", slog.Any("err", serr))
		}
	}
	srv.Shutdown()
	return err
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
