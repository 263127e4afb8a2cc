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

// signInOutcome is how one sign-in (authorize, email, password, code
// exchange) through hubid ended.
type signInOutcome struct {
	started, ended time.Time
	ok             bool   // signed in, tokens issued
	clean          bool   // refused cleanly: 503 / temporarily_unavailable
	err            string // anything else: an unclean failure
	browser        *Browser
	refresh        string
}

// signInOnce runs one sign-in with a new browser and classifies it.
func signInOnce(ctx context.Context, rp *RP) signInOutcome {
	o := signInOutcome{started: time.Now(), browser: rp.NewBrowser()}
	f, err := o.browser.Authorize(ctx)
	if err == nil && f.Error == "" {
		err = o.browser.SignIn(ctx, f, email, password)
	}
	if err == nil && f.Error == "" {
		if f.Code == "" {
			err = fmt.Errorf("no code after signing in (sign-in page again: %v)", f.AuthRequestID != "")
		} else {
			var tok Tokens
			tok, _, err = rp.Exchange(ctx, f)
			o.refresh = tok.RefreshToken
		}
	}
	var pe *PageError
	switch {
	case err == nil && f.Error == "":
		o.ok = true
	case err == nil && f.Error == "temporarily_unavailable":
		o.clean = true
	case err == nil:
		o.err = fmt.Sprintf("authorization error %q", f.Error)
	case errors.As(err, &pe):
		o.clean = pe.Status == http.StatusServiceUnavailable && bytes.Contains(pe.Body, []byte("temporarily unavailable"))
	default: // the token endpoint: "authorization_code: 503 {...temporarily_unavailable...}"
		o.clean = strings.Contains(err.Error(), ": 503 ") && strings.Contains(err.Error(), "temporarily_unavailable")
	}
	if err != nil && !o.clean {
		o.err = err.Error()
	}
	o.ended = time.Now()
	return o
}

// hubOutcome loads a signed-in person's hub page: "" (200), "503" (the
// clean temporarily-unavailable page) or what else came.
func hubOutcome(ctx context.Context, issuer string, b *Browser) string {
	a, err := b.Do(ctx, http.MethodGet, issuer+"/", nil)
	switch {
	case err != nil:
		return err.Error()
	case a.Status == http.StatusOK:
		return ""
	case a.Status == http.StatusServiceUnavailable && strings.Contains(string(a.Body), "temporarily unavailable"):
		return "503"
	}
	return fmt.Sprintf("%d %s", a.Status, excerpt(a.Body))
}

// TestSentinelFailoverUnderLoad: hubid serve on a Sentinel-managed master
// with one replica (redis.wait_replicas: 1) while people load their hub
// page and others sign in, and a Sentinel fails the master over.
//
//   - Every answer is 200 or a clean 503 "temporarily unavailable": a
//     sign-in caught by the switch is lost (counted) but never told that
//     it expired, never a 400 or a 500.
//   - hubid follows the new master by itself: within 10 s of Redis being
//     whole again (the new master has a replica: with wait_replicas,
//     writes wait for one) no sign-in ends in failure, none started after
//     that fails, and the test runs on until 20 sign-ins in a row
//     succeeded.
//   - Nothing hubid answered for is lost: every session and refresh token
//     issued before or during the switch still works after it.
func TestSentinelFailoverUnderLoad(t *testing.T) {
	bin := hubidBinary(t)
	dir := t.TempDir()
	s := StartSentinels(t, dir, "hubid", sentinelRedis, sentinelPort1, sentinelPort1+1, sentinelPort1+2)
	const port = 18150
	issuer := "http://" + Addr(port)
	d := NewDeployment(t, dir, DeploymentOptions{
		Bin: bin, Issuer: issuer, DSN: testenv.Postgres(t), Seed: seedYAML, Ports: []int{port},
		Redis: fmt.Sprintf("  sentinel:\n    master_name: %s\n    addrs: [%s]\n  key_prefix: \"hubid:\"\n  wait_replicas: 1",
			s.MasterName, strings.Join(s.SentinelAddrs(), ", ")),
	})
	d.StartAll(t)
	rp := NewRP(issuer, rpID, rpSecret, rpRedirect)
	ctx := context.Background()
	const people = 4 // signed in first, then loading their hub page
	var before []signInOutcome
	for range people {
		o := signInOnce(ctx, rp)
		if !o.ok {
			t.Fatalf("sign-in before the failover: %s", o.err)
		}
		before = append(before, o)
	}

	var (
		mu       sync.Mutex
		signIns  []signInOutcome
		hubBad   []string
		hubLate  []string // failures of page loads started after the recovery deadline
		hub503   atomic.Int64
		deadline atomic.Pointer[time.Time] // the switch + 10 s, once known
	)
	afterDeadline := func(start time.Time) bool {
		d := deadline.Load()
		return d != nil && start.After(*d)
	}
	const signInWorkers = 2
	l := StartLoad(people+signInWorkers, func(ctx context.Context, w int) (string, error) {
		if w >= people {
			o := signInOnce(ctx, rp)
			mu.Lock()
			signIns = append(signIns, o)
			mu.Unlock()
			if !o.ok {
				return "", errors.New("sign-in failed")
			}
			return "", nil
		}
		start := time.Now()
		got := hubOutcome(ctx, issuer, before[w].browser)
		switch {
		case got == "":
			return "", nil
		case afterDeadline(start):
			mu.Lock()
			hubLate = append(hubLate, got)
			mu.Unlock()
		case got == "503":
			hub503.Add(1)
		default:
			mu.Lock()
			hubBad = append(hubBad, got)
			mu.Unlock()
		}
		return "", errors.New(got)
	})
	l.WaitOK(t, 100, 30*time.Second)
	s.Failover(t)
	switched := time.Now()
	// With wait_replicas, writes wait for Redis to be whole again: the
	// new master with a replica. Sentinel turns the old master (alive
	// here) into one about 8 s after the switch. From then on hubid has
	// 10 s to be back by itself.
	WaitFor(t, nil, 30*time.Second, "a replica of the new master", func(ctx context.Context) error {
		m, err := s.CurrentMaster(ctx)
		if err != nil {
			return err
		}
		if n, err := ConnectedReplicas(ctx, m); err != nil || n == 0 {
			return fmt.Errorf("%s has %d replicas (%v)", m, n, err)
		}
		return nil
	})
	whole := time.Now()
	limit := whole.Add(10 * time.Second)
	deadline.Store(&limit)
	// Run on until the service has been back for 20 sign-ins in a row:
	// 20 sign-ins started after the last failed one ended, all signed in.
	const stable = 20
	WaitFor(t, d.Replicas[0].Proc, 45*time.Second, "20 sign-ins in a row after the failover", func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		back := switched
		for _, o := range signIns {
			if !o.ok && o.ended.After(back) {
				back = o.ended
			}
		}
		n := 0
		for _, o := range signIns {
			if o.started.After(back) {
				n++
			}
		}
		if n < stable {
			return fmt.Errorf("%d sign-ins since the last failure", n)
		}
		return nil
	})
	l.Stop()

	var lost, unclean, late []string
	var lastFailure time.Duration // after Redis was whole again
	for _, o := range signIns {
		if o.ok {
			continue
		}
		lastFailure = max(lastFailure, o.ended.Sub(whole))
		switch {
		case o.started.After(limit):
			late = append(late, fmt.Sprintf("started %v after the switch: %s", o.started.Sub(switched).Round(time.Millisecond), o.err))
		case o.clean:
			lost = append(lost, o.started.Sub(switched).Round(time.Millisecond).String())
		default:
			unclean = append(unclean, o.err)
		}
	}
	t.Logf("%d sign-ins during the run; %d lost cleanly (503) during the switch, started at %v from it; Redis whole again %v after the switch, the last failure ended %v after that; %d hub pages 503; %d requests served",
		len(signIns), len(lost), lost, whole.Sub(switched).Round(time.Millisecond), lastFailure.Round(time.Millisecond), hub503.Load(), l.OK())
	if len(unclean) > 0 {
		t.Errorf("%d sign-ins failed uncleanly (not a 503 temporarily unavailable): %v", len(unclean), unclean)
	}
	if len(late) > 0 || lastFailure > 10*time.Second {
		t.Errorf("not recovered within 10 s: the last failure ended %v after Redis was whole again; %d sign-ins started after 10 s failed: %v", lastFailure, len(late), late)
	}
	if len(hubBad) > 0 || len(hubLate) > 0 {
		t.Errorf("hub pages: %d unclean answers %v, %d failures after the recovery deadline %v", len(hubBad), hubBad, len(hubLate), hubLate)
	}

	// Nothing hubid answered for is lost: the sessions and refresh tokens
	// of every sign-in that succeeded before the deadline still work
	// (the people's own, and a sample from the load around the switch).
	kept := before
	for _, o := range signIns {
		if o.ok && o.ended.After(switched.Add(-3*time.Second)) {
			kept = append(kept, o)
		}
	}
	for i, o := range kept {
		f, err := o.browser.Authorize(ctx)
		if err != nil || f.Code == "" {
			t.Errorf("session %d (signed in %v from the switch) lost: %v %q", i, o.ended.Sub(switched).Round(time.Millisecond), err, f.Error)
		}
		if _, _, err := rp.Refresh(ctx, o.refresh); err != nil {
			t.Errorf("refresh token %d (issued %v from the switch) lost: %v", i, o.ended.Sub(switched).Round(time.Millisecond), err)
		}
	}
	t.Logf("%d sessions and refresh tokens checked after the failover", len(kept))
}
