//go:build cluster

package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/store"
	redisstore "github.com/customerhub/hubid/store/redis"
	"github.com/customerhub/hubid/store/storetest"
)

// Ports of the Redis topologies (see the package comment).
const (
	clusterPort1  = 18200 // 18200-18202, buses 18210-18212
	sentinelRedis = 18220 // master; the replica on 18221
	sentinelPort1 = 18230 // 18230-18232
)

// TestEphemeralOnRedisCluster runs the ephemeral conformance suite on a
// Cluster of three masters: a script or transaction whose keys hash to
// two slots fails there with CROSSSLOT, so every one of them passing
// shows the hash tags are right.
func TestEphemeralOnRedisCluster(t *testing.T) {
	rc := StartCluster(t, t.TempDir(), clusterPort1, clusterPort1+1, clusterPort1+2)
	storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
		c := redisstore.NewClient(redisstore.ClientConfig{Addrs: rc.Addrs(), Cluster: true})
		s := redisstore.New(c, redisstore.Options{Prefix: testenv.Name("hubidtest:") + ":", Now: clock.Now})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestEphemeralOnSentinel runs the suite through Sentinel discovery.
func TestEphemeralOnSentinel(t *testing.T) {
	s := StartSentinels(t, t.TempDir(), "hubid", sentinelRedis, sentinelPort1, sentinelPort1+1, sentinelPort1+2)
	storetest.RunEphemeral(t, func(t *testing.T, clock *storetest.Clock) store.Ephemeral {
		c := redisstore.NewClient(redisstore.ClientConfig{Addrs: s.SentinelAddrs(), MasterName: s.MasterName})
		st := redisstore.New(c, redisstore.Options{Prefix: testenv.Name("hubidtest:") + ":", Now: clock.Now})
		t.Cleanup(func() { _ = st.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// TestSentinelFailoverUnderLoad: hubid serve on a Sentinel-managed master
// with one replica; people signed in (their sessions and refresh tokens
// replicated: WAIT before the failover) keep loading their hub page while
// a Sentinel fails the master over. Every answer during the switch is 200
// or a clean 503 "temporarily unavailable" page; hubid follows the new
// master by itself within 10 s; no session and no refresh token is lost.
func TestSentinelFailoverUnderLoad(t *testing.T) {
	bin := hubidBinary(t)
	dir := t.TempDir()
	s := StartSentinels(t, dir, "hubid", sentinelRedis, sentinelPort1, sentinelPort1+1, sentinelPort1+2)
	const port = 18150
	issuer := "http://" + Addr(port)
	d := NewDeployment(t, dir, DeploymentOptions{
		Bin: bin, Issuer: issuer, DSN: testenv.Postgres(t), Seed: seedYAML, Ports: []int{port},
		Redis: fmt.Sprintf("  sentinel:\n    master_name: %s\n    addrs: [%s]\n  key_prefix: \"hubid:\"",
			s.MasterName, strings.Join(s.SentinelAddrs(), ", ")),
	})
	d.StartAll(t)
	rp := NewRP(issuer, rpID, rpSecret, rpRedirect)
	ctx := context.Background()
	var (
		browsers []*Browser
		refresh  []string
	)
	for range 6 {
		b := rp.NewBrowser()
		f, err := b.Authorize(ctx)
		if err == nil {
			err = b.SignIn(ctx, f, email, password)
		}
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := rp.Exchange(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		browsers, refresh = append(browsers, b), append(refresh, tok.RefreshToken)
	}
	// Replication is asynchronous: wait until the replica has every write
	// so far (what a deployment gets from min-replicas or a WAIT).
	if n, err := s.Master.Client(t).Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n < 1 {
		t.Fatalf("WAIT: %d %v", n, err)
	}

	var clean503, bad, restarted atomic.Int64
	var badMu sync.Mutex
	var badAnswers []string
	hub := func(ctx context.Context, b *Browser) error {
		a, err := b.Do(ctx, http.MethodGet, issuer+"/", nil)
		switch {
		case err != nil:
		case a.Status == http.StatusOK:
			return nil
		case a.Status == http.StatusServiceUnavailable && strings.Contains(string(a.Body), "temporarily unavailable"):
			clean503.Add(1)
			return errors.New("503")
		default:
			err = fmt.Errorf("%d %s", a.Status, excerpt(a.Body))
		}
		bad.Add(1)
		badMu.Lock()
		badAnswers = append(badAnswers, err.Error())
		badMu.Unlock()
		return err
	}
	// Sign-ins write (auth requests, sessions, codes): during the switch
	// they may meet the demoted master (READONLY) or no master at all.
	signIn := func(ctx context.Context) error {
		b := rp.NewBrowser()
		f, err := b.Authorize(ctx)
		if err == nil && f.Error == "" {
			err = b.SignIn(ctx, f, email, password)
		}
		if err == nil && f.Error == "" {
			_, _, err = rp.Exchange(ctx, f)
		}
		var pe *PageError
		switch {
		case err == nil && f.Error == "":
			return nil
		case f.Error == "temporarily_unavailable" || err != nil && (strings.Contains(err.Error(), ": 503 ") || strings.Contains(err.Error(), "temporarily_unavailable")):
			clean503.Add(1)
			return errors.New("503")
		case errors.As(err, &pe) && pe.Status < 500 && bytes.Contains(pe.Body, []byte("has expired")):
			// The sign-in's pending request was written to the old master
			// after the replica took over (asynchronous replication): the
			// person is asked to start again from the service.
			restarted.Add(1)
			return err
		case err == nil:
			err = fmt.Errorf("authorization error %q", f.Error)
		}
		bad.Add(1)
		badMu.Lock()
		badAnswers = append(badAnswers, err.Error())
		badMu.Unlock()
		return err
	}
	const signInWorkers = 2
	l := StartLoad(len(browsers)+signInWorkers, func(ctx context.Context, w int) (string, error) {
		if w >= len(browsers) {
			return "", signIn(ctx)
		}
		return "", hub(ctx, browsers[w])
	})
	l.WaitOK(t, 100, 30*time.Second)
	s.Failover(t)
	switched := time.Now()
	// Service is back when every person's page loads again and a new
	// sign-in (writes) succeeds.
	WaitFor(t, d.Replicas[0].Proc, 10*time.Second, "service after the failover", func(ctx context.Context) error {
		for _, b := range browsers {
			if err := hub(ctx, b); err != nil {
				return err
			}
		}
		return signIn(ctx)
	})
	recovered := time.Since(switched)
	l.WaitOK(t, 100, 30*time.Second)
	l.Stop()
	t.Logf("recovered %v after the Sentinels named the new master; %d clean 503s and %d sign-ins to start again during the switch, %d requests served",
		recovered.Round(time.Millisecond), clean503.Load(), restarted.Load(), l.OK())
	// Each sign-in worker had one sign-in in progress during the switch.
	if restarted.Load() > signInWorkers {
		t.Errorf("%d sign-ins lost their pending request, more than the %d in progress at the switch", restarted.Load(), signInWorkers)
	}
	if bad.Load() > 0 {
		t.Errorf("%d answers were neither 200 nor a clean 503: %v", bad.Load(), badAnswers)
	}
	for i, rt := range refresh {
		if _, _, err := rp.Refresh(ctx, rt); err != nil {
			t.Errorf("refresh token %d after the failover: %v", i, err)
		}
	}
}
