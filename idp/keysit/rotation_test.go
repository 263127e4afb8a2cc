package keysit_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// TestRotationUnderLoad mints 10,000 JWT access tokens while the keys
// rotate five times, and verifies every token at once with go-oidc, which
// fetches /keys over HTTP (again whenever it meets an unknown kid). Zero
// verification failures are allowed.
//
// Every tenth token comes from the real token endpoint over HTTP
// (client_credentials). The other nine in ten are minted through the
// storage adapter exactly as that endpoint does after authenticating the
// client (op.CreateClientCredentialsTokenResponse, which takes the signing
// key from the manager once per token), skipping the HTTP round trip and
// the client lookup: 10,000 round trips under -race took ~30 s on two
// cores, this takes a third of that. Verification is always over HTTP.
//
// publish_before is one second of the fake clock and the clock moves two
// seconds before each rotation, so every rotation is an ordinary, unforced
// one.
func TestRotationUnderLoad(t *testing.T) {
	const (
		total     = 10_000
		workers   = 8
		rotations = 5
	)
	ctx := context.Background()
	clk := newClock()
	db := storetest.OpenSQLite(t, clk.Now)
	inst := startInstance(t, db, "sqlite", newSecrets(t), clk, func(c *config.Config) {
		c.Keys.PublishBefore = config.Duration(time.Second)
	})
	reg := prometheus.NewRegistry()
	if err := inst.Server.Keys.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	secret := addService(t, db, "svc-load")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 30 * time.Second}
	v := verifier(inst.URL, clk)
	// The token endpoint's path after client authentication.
	stor, ok := inst.Server.Provider.Storage().(op.ClientCredentialsStorage)
	if !ok {
		t.Fatal("the storage adapter does not offer client_credentials")
	}
	opCtx := op.ContextWithIssuer(ctx, inst.URL)
	client, err := stor.ClientCredentials(opCtx, "svc-load", secret)
	if err != nil {
		t.Fatal(err)
	}
	direct := func() (string, error) {
		req, err := stor.ClientCredentialsTokenRequest(opCtx, "svc-load", nil)
		if err != nil {
			return "", err
		}
		resp, err := op.CreateClientCredentialsTokenResponse(opCtx, req, inst.Server.Provider, client)
		if err != nil {
			return "", err
		}
		return resp.AccessToken, nil
	}

	// The rotator rotates once per sixth of the load.
	step := make(chan struct{}, rotations)
	rotated := make(chan error, 1)
	go func() {
		var err error
		for range step {
			clk.Advance(2 * time.Second)
			if _, rerr := inst.Server.Keys.Rotate(ctx, false); rerr != nil && err == nil {
				err = rerr
			}
		}
		rotated <- err
	}()

	var minted, failures atomic.Int64
	var mu sync.Mutex
	perKid := map[string]int{}
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			mine := map[string]int{}
			defer func() {
				mu.Lock()
				defer mu.Unlock()
				for k, n := range mine {
					perKid[k] += n
				}
			}()
			for {
				n := minted.Add(1)
				if n > total {
					return
				}
				if stride := int64(total / (rotations + 1)); n%stride == 0 && n/stride <= rotations {
					step <- struct{}{}
				}
				var tok string
				var err error
				if n%10 == 0 {
					tok, err = mint(ctx, hc, inst.URL, "svc-load", secret)
				} else {
					tok, err = direct()
				}
				if err == nil {
					_, err = v.Verify(ctx, tok)
				}
				if err != nil {
					if failures.Add(1) == 1 {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
					continue
				}
				mine[kidOf(tok)]++
			}
		})
	}
	wg.Wait()
	close(step)
	if err := <-rotated; err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d tokens failed to mint or verify; first: %v", n, total, firstErr)
	}
	sum := 0
	for _, n := range perKid {
		sum += n
	}
	ks, err := inst.Server.Keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum != total || len(ks) != rotations+2 || len(perKid) < 4 {
		t.Fatalf("%d tokens verified; %d keys stored (want %d); tokens per kid %v", sum, len(ks), rotations+2, perKid)
	}
	t.Logf("tokens per kid across %d rotations: %v", rotations, perKid)

	// hubid_tokens_signed_total counts exactly the signatures made.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]int{}
	for _, mf := range mfs {
		if mf.GetName() == "hubid_tokens_signed_total" {
			for _, m := range mf.GetMetric() {
				counted[m.GetLabel()[0].GetValue()] = int(m.GetCounter().GetValue())
			}
		}
	}
	for kid, n := range perKid {
		if counted[kid] != n {
			t.Errorf("hubid_tokens_signed_total{kid=%q} = %d, want %d", kid, counted[kid], n)
		}
	}
}

// TestLifecycleOverHTTP walks one key next → active → retired → removed on
// an injected clock, asserting /keys at every step.
func TestLifecycleOverHTTP(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storetest.OpenSQLite(t, clk.Now)
	inst := startInstance(t, db, "sqlite", newSecrets(t), clk, func(c *config.Config) {
		c.Keys.PublishBefore = config.Duration(10 * time.Minute)
	})
	km := inst.Server.Keys
	retireFor := max(inst.Config.Tokens.AccessTTL.D(), inst.Config.Tokens.IDTokenTTL.D()) + inst.Config.Keys.ClockSkew.D()
	stateOf := func() map[string]store.KeyState {
		ks, err := km.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.KeyState{}
		for _, k := range ks {
			out[k.ID] = k.State
		}
		return out
	}
	kidIn := func(want store.KeyState) string {
		for kid, st := range stateOf() {
			if st == want {
				return kid
			}
		}
		t.Fatalf("no %s key: %v", want, stateOf())
		return ""
	}
	assertKeys := func(step string, want ...string) {
		t.Helper()
		body, cc := getKeys(t, inst.URL)
		// The set matters, not the order (keys sort by creation, then kid).
		got := jwksKids(t, body)
		want = slices.Clone(want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: /keys %v, want %v", step, got, want)
		}
		age, err := strconv.Atoi(strings.TrimPrefix(cc, "public, max-age="))
		if err != nil || age <= 0 || time.Duration(age)*time.Second > inst.Config.Keys.PublishBefore.D() {
			t.Fatalf("%s: Cache-Control %q must not exceed publish_before", step, cc)
		}
	}

	first, next := kidIn(store.KeyActive), kidIn(store.KeyNext)
	assertKeys("start: active and next published", first, next)

	clk.Advance(5 * time.Minute)
	if _, err := km.Rotate(ctx, false); !errors.Is(err, keys.ErrTooEarly) {
		t.Fatalf("rotating a next key published 5m of 10m: %v", err)
	}
	assertKeys("refused rotation", first, next)

	clk.Advance(30 * 24 * time.Hour)
	if _, err := km.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	newNext := kidIn(store.KeyNext)
	if st := stateOf(); st[first] != store.KeyRetired || st[next] != store.KeyActive {
		t.Fatalf("after the scheduled rotation: %v", st)
	}
	assertKeys("rotated: retired, active, next", first, next, newNext)

	clk.Advance(retireFor - time.Second)
	if _, err := km.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	assertKeys("retired key kept while its tokens live", first, next, newNext)

	clk.Advance(time.Second)
	if _, err := km.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	assertKeys("retired key removed", next, newNext)
}

// TestEmergencyRetire: a token signed by a key retired with --now fails
// verification with a fresh key set right after; new tokens verify.
func TestEmergencyRetire(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storetest.OpenSQLite(t, clk.Now)
	inst := startInstance(t, db, "sqlite", newSecrets(t), clk, nil)
	secret := addService(t, db, "svc-emergency")
	hc := &http.Client{Timeout: 10 * time.Second}

	old, err := mint(ctx, hc, inst.URL, "svc-emergency", secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier(inst.URL, clk).Verify(ctx, old); err != nil {
		t.Fatalf("before retire: %v", err)
	}
	compromised := kidOf(old)
	if _, err := inst.Server.Keys.RetireNow(ctx, compromised); err != nil {
		t.Fatal(err)
	}
	body, _ := getKeys(t, inst.URL)
	if slices.Contains(jwksKids(t, body), compromised) {
		t.Fatal("the retired key is still in /keys")
	}
	if _, err := verifier(inst.URL, clk).Verify(ctx, old); err == nil {
		t.Fatal("a token signed by the retired key still verifies")
	}
	fresh, err := mint(ctx, hc, inst.URL, "svc-emergency", secret)
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(fresh) == compromised {
		t.Fatal("still signing with the retired key")
	}
	if _, err := verifier(inst.URL, clk).Verify(ctx, fresh); err != nil {
		t.Fatalf("token signed after the retire: %v", err)
	}
}
