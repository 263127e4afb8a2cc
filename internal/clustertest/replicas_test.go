//go:build cluster

package clustertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/customerhub/hubid/internal/testenv"
)

// Ports: nginx, and the replicas' public ports (internal: +20).
const (
	nginxPort   = 18100
	replicaPort = 18110 // 18110-18112, internal 18130-18132
)

// shutdownDelay is the replicas' listen.shutdown_delay: long enough for
// the test to see /readyz turn 503 and reload nginx.
const shutdownDelay = 4 * time.Second

// cluster is three hubid replicas behind nginx.
type cluster struct {
	d     *Deployment
	rp    *RP
	nginx *Nginx
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	Need(t, "nginx", "apt-get install -y nginx")
	bin := hubidBinary(t)
	dir := t.TempDir()
	dsn := testenv.Postgres(t)
	addr, prefix := testenv.Redis(t)
	issuer := "http://" + Addr(nginxPort)
	d := NewDeployment(t, dir, DeploymentOptions{
		Bin: bin, Issuer: issuer, DSN: dsn, Seed: seedYAML,
		Redis:         fmt.Sprintf("  addrs: [%q]\n  key_prefix: %q", addr, prefix),
		Ports:         []int{replicaPort, replicaPort + 1, replicaPort + 2},
		ShutdownDelay: shutdownDelay,
	})
	d.StartAll(t)
	var upstreams []string
	for _, r := range d.Replicas {
		upstreams = append(upstreams, r.Addr())
	}
	n := StartNginx(t, dir, nginxPort, upstreams)
	return &cluster{d: d, rp: NewRP(issuer, rpID, rpSecret, rpRedirect), nginx: n}
}

// signIn signs a new browser in through nginx and redeems the code.
func (c *cluster) signIn(t *testing.T) (*Browser, Tokens) {
	t.Helper()
	ctx := context.Background()
	b := c.rp.NewBrowser()
	f, err := b.Authorize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SignIn(ctx, f, email, password); err != nil {
		t.Fatal(err)
	}
	if f.Code == "" {
		t.Fatalf("no code after signing in: %q", f.Error)
	}
	tok, _, err := c.rp.Exchange(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	return b, tok
}

// sso runs a new authorization request in a signed-in browser and wants
// a code without the sign-in page; it returns the replica that read the
// session (the one that answered /login).
func (c *cluster) sso(t *testing.T, b *Browser) (*Flow, string) {
	t.Helper()
	f, err := b.Authorize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Code == "" {
		t.Fatalf("SSO: no code (sign-in page: %v, error %q)", f.AuthRequestID != "", f.Error)
	}
	return f, b.Served(http.MethodGet, "/login")
}

// TestReplicasBehindNginx: three `hubid serve` on one PostgreSQL schema
// and one Redis key space behind nginx (round robin, no stickiness): a
// sign-in, SSO and refresh that each land on another replica; a key
// rotation while 1,000 tokens are verified; a SIGTERM and a SIGKILL under
// load; and a restart of all three that loses no session or refresh
// token.
func TestReplicasBehindNginx(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	var (
		browser *Browser
		refresh string
	)
	ok := t.Run("sign-in, SSO and refresh on three replicas", func(t *testing.T) {
		b, tok := c.signIn(t)
		creator := b.Served(http.MethodPost, "/login/password")
		var ssoReplica string
		for range 6 { // round robin: the next try lands elsewhere
			f, r := c.sso(t, b)
			tok2, _, err := c.rp.Exchange(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			tok = tok2
			if r != creator {
				ssoReplica = r
				break
			}
		}
		if creator == "" || ssoReplica == "" {
			t.Fatalf("session made on %q, never read by another replica: %+v", creator, b.Trail)
		}
		third := ""
		for range 6 {
			next, a, err := c.rp.Refresh(ctx, tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			tok = next
			if a.Replica != creator && a.Replica != ssoReplica {
				third = a.Replica
				break
			}
		}
		if third == "" {
			t.Fatal("no refresh landed on the third replica")
		}
		t.Logf("session created on %s, read for SSO on %s, refresh on %s", creator, ssoReplica, third)
		browser, refresh = b, tok.RefreshToken
	})
	if !ok {
		return
	}

	t.Run("key rotation while 1,000 tokens are verified", func(t *testing.T) {
		c.keyRotation(t)
	})

	// Refresh chains that must survive SIGTERM and the restart of all.
	var chains []string
	for range 4 {
		_, tok := c.signIn(t)
		chains = append(chains, tok.RefreshToken)
	}
	var chainMu sync.Mutex
	t.Run("SIGTERM under load", func(t *testing.T) {
		victim := c.d.Replicas[1]
		const workers = 8
		l := StartLoad(workers, func(ctx context.Context, w int) (string, error) {
			if w < len(chains) { // workers 0-3 refresh their chain, the others use client_credentials
				chainMu.Lock()
				rt := chains[w]
				chainMu.Unlock()
				tok, a, err := c.rp.Refresh(ctx, rt)
				if err == nil {
					chainMu.Lock()
					chains[w] = tok.RefreshToken
					chainMu.Unlock()
				}
				return a.Replica, err
			}
			_, a, err := c.rp.TokenOK(ctx, url.Values{"grant_type": {"client_credentials"}})
			return a.Replica, err
		})
		l.WaitOK(t, 200, 30*time.Second)
		// SIGTERM while in rotation, as an orchestrator sends it: the
		// replica answers 503 on /readyz at once and serves on for
		// listen.shutdown_delay; the load balancer, probing /readyz,
		// takes it out (nginx here has no active probes: the test probes
		// and reloads nginx for it); then the replica shuts down.
		before := l.Served(victim.Addr())
		victim.Proc.Signal(syscall.SIGTERM)
		WaitFor(t, victim.Proc, 5*time.Second, "/readyz 503 after SIGTERM", func(ctx context.Context) error {
			return GetStatus(ctx, victim.ReadyURL(), http.StatusServiceUnavailable)
		})
		// Still serving new requests: more answers than the workers can
		// have had in flight at the SIGTERM.
		WaitFor(t, victim.Proc, shutdownDelay/2, "answers after SIGTERM", func(context.Context) error {
			if n := l.Served(victim.Addr()) - before; n <= 2*workers {
				return fmt.Errorf("%d answers since SIGTERM", n)
			}
			return nil
		})
		c.nginx.Drain(t, victim.Addr(), true)
		select {
		case <-victim.Proc.Done():
		case <-time.After(shutdownDelay + 30*time.Second): // a guard
			t.Fatal("no exit after the shutdown delay")
		}
		if err := victim.Proc.ExitErr(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
		l.WaitOK(t, 200, 30*time.Second)
		by, errs := l.Stop()
		t.Logf("answers per replica: %v (%d by the stopping replica after SIGTERM); failed: %d", by, by[victim.Addr()]-before, l.Failed())
		if l.Failed() != 0 {
			t.Errorf("%d requests failed during the SIGTERM (want 0): %v", l.Failed(), errs)
		}
		victim.Start(t)
		c.nginx.Drain(t, victim.Addr(), false)
	})

	t.Run("SIGKILL under load", func(t *testing.T) {
		victim := c.d.Replicas[2]
		const workers = 8
		l := StartLoad(workers, func(ctx context.Context, w int) (string, error) {
			_, a, err := c.rp.TokenOK(ctx, url.Values{"grant_type": {"client_credentials"}})
			return a.Replica, err
		})
		l.WaitOK(t, 200, 30*time.Second)
		// All three serve, the one restarted after the SIGTERM too.
		for _, r := range c.d.Replicas {
			WaitFor(t, r.Proc, 10*time.Second, r.Name+" in rotation", func(context.Context) error {
				if l.Served(r.Addr()) == 0 {
					return fmt.Errorf("no answer from %s yet", r.Addr())
				}
				return nil
			})
		}
		victim.Proc.Kill()
		l.WaitOK(t, 200, 30*time.Second)
		by, errs := l.Stop()
		t.Logf("answers per replica: %v; failed (in flight on the killed replica): %d %v", by, l.Failed(), errs)
		// Each worker has one request in flight at most: only those on
		// the killed replica may fail.
		if l.Failed() > workers {
			t.Errorf("%d requests failed, more than the %d that can have been in flight", l.Failed(), workers)
		}
		for _, err := range errs {
			if !strings.Contains(err.Error(), " 502 ") && !strings.Contains(err.Error(), ": 502") {
				t.Errorf("a failure that is not nginx's 502 for a lost upstream: %v", err)
			}
		}
		victim.Start(t)
	})

	t.Run("restart all three", func(t *testing.T) {
		for _, r := range c.d.Replicas { // all three drain at once
			r.Proc.Signal(syscall.SIGTERM)
		}
		for _, r := range c.d.Replicas {
			if err := r.Proc.Stop(shutdownDelay + 30*time.Second); err != nil {
				t.Errorf("%s: %v", r.Name, err)
			}
		}
		c.d.StartAll(t)
		// The browser's session still signs it in, and every refresh
		// token handed out last still works.
		f, _ := c.sso(t, browser)
		if _, _, err := c.rp.Exchange(ctx, f); err != nil {
			t.Fatal(err)
		}
		for i, rt := range append([]string{refresh}, chains...) {
			if _, _, err := c.rp.Refresh(ctx, rt); err != nil {
				t.Errorf("refresh token %d after the restart: %v", i, err)
			}
		}
	})
}

// keyRotation issues client_credentials tokens through nginx on six
// workers and verifies each against the JWKS (fetched through nginx, so
// from any replica) while the signing key is rotated twice with `hubid
// keys rotate --force`; 1,000 tokens at least, and until tokens signed by
// three keys were seen.
func (c *cluster) keyRotation(t *testing.T) {
	ctx := context.Background()
	ks := oidc.NewRemoteKeySet(ctx, c.rp.Issuer+"/keys")
	verifier := oidc.NewVerifier(c.rp.Issuer, ks, &oidc.Config{SkipClientIDCheck: true})
	var (
		mu      sync.Mutex
		tokens  []string
		kids    = map[string]int{}
		failed  atomic.Int64
		errs    []error
		issued  atomic.Int64
		rotated atomic.Int32
	)
	// A rotation makes the published next key the signing key; the
	// second waits until every replica publishes the new next key (keys
	// are reloaded every 2 s), as an operator must before forcing again.
	rotate := func() {
		c.waitPublishedKeys(t, 2+int(rotated.Load()))
		c.d.Run(t, "keys", "rotate", "--force", "--config", c.d.Replicas[0].Config)
		rotated.Add(1)
	}
	rotations := make(chan struct{})
	go func() {
		defer close(rotations)
		for _, at := range []int64{250, 600} {
			for issued.Load() < at {
				time.Sleep(5 * time.Millisecond) // the rotation waits for the issuance to have reached at
			}
			rotate()
		}
	}()
	deadline := time.Now().Add(90 * time.Second)
	l := StartLoad(6, func(ctx context.Context, w int) (string, error) {
		tok, a, err := c.rp.TokenOK(ctx, url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			failed.Add(1)
			return a.Replica, err
		}
		issued.Add(1)
		if _, err := verifier.Verify(ctx, tok.AccessToken); err != nil {
			failed.Add(1)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			return a.Replica, err
		}
		mu.Lock()
		tokens = append(tokens, tok.AccessToken)
		kids[kidOf(tok.AccessToken)]++
		mu.Unlock()
		return a.Replica, nil
	})
	WaitFor(t, nil, time.Until(deadline), "1,000 tokens over three keys", func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if len(tokens) >= 1000 && len(kids) >= 3 && rotated.Load() == 2 {
			return nil
		}
		if failed.Load() > 0 {
			return nil // reported below
		}
		return fmt.Errorf("%d tokens, %d keys, %d rotations", len(tokens), len(kids), rotated.Load())
	})
	by, lerrs := l.Stop()
	<-rotations
	t.Logf("%d tokens verified, signed by keys %v; answers per replica %v", len(tokens), kids, by)
	if failed.Load() != 0 {
		t.Fatalf("%d failures during the rotation: %v %v", failed.Load(), lerrs, errs)
	}
	// Every token still verifies afterwards: retired keys stay published.
	for _, tok := range tokens {
		if _, err := verifier.Verify(ctx, tok); err != nil {
			t.Fatalf("after the rotations: %v", err)
		}
	}
}

// waitPublishedKeys waits until every replica's own /keys has n keys.
func (c *cluster) waitPublishedKeys(t *testing.T, n int) {
	t.Helper()
	for _, r := range c.d.Replicas {
		WaitFor(t, r.Proc, 10*time.Second, r.Name+" publishes the keys", func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Addr()+"/keys", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var set struct {
				Keys []json.RawMessage `json:"keys"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
				return err
			}
			if len(set.Keys) < n {
				return fmt.Errorf("%d keys published, want %d", len(set.Keys), n)
			}
			return nil
		})
	}
}

// kidOf returns the kid of a JWS compact token's header.
func kidOf(tok string) string {
	h, _, _ := strings.Cut(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(h)
	var hdr struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(b, &hdr)
	return hdr.Kid
}
