package main

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"
)

// A scenario is one kind of request (or, for sign-in, one kind of
// multi-request flow) driven in a closed loop by each worker.
type scenario struct {
	name  string // flag and report name
	title string // for the report
	unit  string // what one iteration is: "req" or "sign-in"
	// long: run signInFactor times the duration (slow iterations).
	long bool
	// es256: also run in the ES256 pass (the scenarios that sign).
	es256 bool
	// client is the bench client whose signed-in sessions the scenario
	// starts from ("" = clientID).
	client string
	// worker returns the loop body of worker i (0-based). State that
	// must not be shared, such as a refresh token chain, lives in the
	// closure.
	worker func(i int) func(ctx context.Context) error
}

// signInFactor lengthens the sign-in runs: an iteration costs tens of
// milliseconds of CPU, so at 32 connections on 2 cores each worker would
// otherwise finish only a few.
const signInFactor = 2

// result is one scenario at one connection count.
type result struct {
	scenario, title, unit string
	alg                   string
	conns                 int
	n, errors             int
	wall                  time.Duration
	p50, p99              time.Duration
	hubidCPU              time.Duration
	benchCPU              time.Duration
	errorSamples          []string
}

// rate is iterations per wall-clock second.
func (r result) rate() float64 { return float64(r.n) / r.wall.Seconds() }

// perCPU is successful iterations per CPU-second of the hubid process; 0
// when no CPU time was measured.
func (r result) perCPU() float64 {
	if r.hubidCPU <= 0 {
		return 0
	}
	return float64(r.n-r.errors) / r.hubidCPU.Seconds()
}

// cores is hubid's average CPU use during the run, in cores.
func (r result) cores() float64 { return r.hubidCPU.Seconds() / r.wall.Seconds() }

func (r result) benchCores() float64 { return r.benchCPU.Seconds() / r.wall.Seconds() }

// cpuMeter reads a process's CPU time.
type cpuMeter interface {
	CPU() (time.Duration, error)
}

// procCPU reads /proc/PID/stat.
type procCPU struct {
	pid int
	hz  int64
}

func (p procCPU) CPU() (time.Duration, error) {
	t, err := cpuTicks(p.pid)
	if err != nil {
		return 0, err
	}
	return time.Duration(t) * time.Second / time.Duration(p.hz), nil
}

// runLoad runs fn in conns closed-loop workers for d and measures it. Each
// worker finishes the iteration it is in when d is over; the run (and the
// CPU window) ends when the last one has.
func runLoad(ctx context.Context, s scenario, conns int, d time.Duration, cpu cpuMeter) (result, error) {
	res := result{scenario: s.name, title: s.title, unit: s.unit, conns: conns}
	fns := make([]func(context.Context) error, conns)
	for i := range fns {
		fns[i] = s.worker(i)
	}
	type workerOut struct {
		lat    []time.Duration
		errors int
		errs   []string
	}
	outs := make([]workerOut, conns)
	cpu0, err := cpu.CPU()
	if err != nil {
		return res, err
	}
	self0 := selfCPU()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			o := &outs[i]
			o.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(deadline) {
					return
				}
				err := fns[i](ctx)
				if err != nil {
					if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
						return // interrupted, not failed
					}
					o.errors++
					if len(o.errs) < 3 {
						o.errs = append(o.errs, err.Error())
					}
					continue
				}
				o.lat = append(o.lat, time.Since(t0))
			}
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.benchCPU = selfCPU() - self0
	cpu1, err := cpu.CPU()
	if err != nil {
		return res, err
	}
	res.hubidCPU = cpu1 - cpu0
	var all []time.Duration
	for _, o := range outs {
		all = append(all, o.lat...)
		res.errors += o.errors
		for _, e := range o.errs {
			if len(res.errorSamples) < 5 && !slices.Contains(res.errorSamples, e) {
				res.errorSamples = append(res.errorSamples, e)
			}
		}
	}
	res.n = len(all) + res.errors
	res.p50, res.p99 = percentiles(all)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// percentiles returns the 50th and 99th percentile (nearest rank).
func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.999999) - 1
		return lat[max(0, min(i, len(lat)-1))]
	}
	return rank(0.50), rank(0.99)
}

// session is a signed-in user: what the refresh, userinfo and
// introspection scenarios start from.
type session struct {
	tokens
	email  string
	cookie string // the browser's session cookie
}

// prepareSessions signs in n users (parallel, a few at a time) and
// returns their tokens.
func prepareSessions(ctx context.Context, c *client, n, users int) ([]session, error) {
	out := make([]session, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			email := userEmail(i % users)
			t, cookie, err := c.signIn(ctx, email)
			out[i], errs[i] = session{tokens: t, email: email, cookie: cookie}, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("preparing %d signed-in sessions: %w", n, err)
	}
	return out, nil
}

// cookiePicker returns worker i's source of session cookies for the SSO
// scenario.
type cookiePicker func(i int) func() string

// seededCookies picks seeded sessions at random (`hubid-bench seed`).
func seededCookies(k seedKeys, n int) cookiePicker {
	return func(int) func() string {
		return func() string { return k.sessionCookie(mrand.IntN(n)) }
	}
}

// refreshWorker rotates one refresh chain per worker with refresh: each
// token is rotated on use, so a chain must not be shared. Chains carry
// over from the 1-connection to the 32-connection run.
func refreshWorker(sessions []session, refresh func(context.Context, string) (tokens, error)) func(i int) func(ctx context.Context) error {
	chains := make([]string, len(sessions))
	for i, s := range sessions {
		chains[i] = s.RefreshToken
	}
	return func(i int) func(ctx context.Context) error {
		i %= len(chains)
		return func(ctx context.Context) error {
			t, err := refresh(ctx, chains[i])
			if err == nil {
				chains[i] = t.RefreshToken
			}
			return err
		}
	}
}

// scenarios returns the scenarios against c. Refresh chains and access
// tokens come from sessions (by bench client: "" is clientID); sign-ins
// cycle through users, from a random one on; SSO uses the sessions'
// cookies unless pick is set.
func scenarios(c *client, bySession map[string][]session, users int, pick cookiePicker) []scenario {
	sessions := bySession[""]
	if pick == nil {
		pick = func(i int) func() string {
			v := sessions[i%len(sessions)].cookie
			return func() string { return v }
		}
	}
	var mu sync.Mutex
	nextUser := mrand.IntN(users)
	return []scenario{
		{name: "discovery", title: "Discovery (`/.well-known/openid-configuration`)", unit: "req",
			worker: func(int) func(context.Context) error { return c.Discovery }},
		{name: "jwks", title: "JWKS (`/keys`)", unit: "req",
			worker: func(int) func(context.Context) error { return c.JWKS }},
		{name: "client_credentials", title: "client_credentials (JWT access token)", unit: "req", es256: true,
			worker: func(int) func(ctx context.Context) error {
				return func(ctx context.Context) error { _, err := c.ClientCredentials(ctx); return err }
			}},
		{name: "refresh", title: "Refresh with rotation (access + ID token)", unit: "req", es256: true,
			worker: refreshWorker(sessions, c.Refresh)},
		{name: "refresh-noid", title: "Refresh with rotation, `refresh_id_token: false` (access token only, RS256)", unit: "req",
			client: noIDClientID, worker: refreshWorker(bySession[noIDClientID], c.as(noIDClientID).RefreshNoID)},
		{name: "refresh-es256at", title: "Refresh with rotation, `refresh_id_token: false`, ES256 access token", unit: "req",
			client: es256ClientID, worker: refreshWorker(bySession[es256ClientID], c.as(es256ClientID).RefreshNoID)},
		{name: "signin", title: "Full sign-in, argon2id default (8 HTTP requests)", unit: "sign-in", es256: true, long: true,
			worker: func(int) func(ctx context.Context) error {
				return func(ctx context.Context) error {
					mu.Lock()
					u := nextUser % users
					nextUser++
					mu.Unlock()
					_, err := c.SignIn(ctx, userEmail(u))
					return err
				}
			}},
		{name: "sso", title: "SSO: /authorize with a live session, up to the code (3 HTTP requests)", unit: "sign-in",
			worker: func(i int) func(ctx context.Context) error {
				next := pick(i)
				return func(ctx context.Context) error { return c.SSO(ctx, next()) }
			}},
		{name: "userinfo", title: "Userinfo (JWT access token)", unit: "req",
			worker: func(i int) func(ctx context.Context) error {
				at := sessions[i%len(sessions)].AccessToken
				return func(ctx context.Context) error { return c.Userinfo(ctx, at) }
			}},
		{name: "introspection", title: "Introspection (JWT access token)", unit: "req",
			worker: func(i int) func(ctx context.Context) error {
				at := sessions[i%len(sessions)].AccessToken
				return func(ctx context.Context) error { return c.Introspect(ctx, at) }
			}},
	}
}

// scenarioNames lists the scenario names in run order.
func scenarioNames() []string {
	var out []string
	one := []session{{}}
	for _, s := range scenarios(&client{}, map[string][]session{"": one, noIDClientID: one, es256ClientID: one}, 1, nil) {
		out = append(out, s.name)
	}
	return out
}
