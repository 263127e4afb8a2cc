package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The rate search (-rate-step) answers "how many requests a second can
// hubid hold on this machine?": an open-loop generator sends requests at
// a constant arrival rate, whatever the answers' latency (a closed loop
// would slow down with the server and hide its queue), for a hold period
// per rate; the rate steps up until a step misses the objective (p99
// below -rate-p99 and no error). Latency is counted from the moment a
// request was due, so a generator that falls behind counts against the
// server, not for it.

// rateOptions configure the search.
type rateOptions struct {
	start, step, max float64
	hold             time.Duration
	p99              time.Duration
	modes            []string // "refresh", "mix"
}

// rateChains is how many users sign in before the search: each gives a
// refresh chain (one request at a time) and an access token.
const rateChains = 64

// settle is the pause before each step.
var settle = 2 * time.Second

// maxInFlight bounds the open requests; a request due while that many
// are open is an error (the server is far behind).
const maxInFlight = 2048

// rateStep is one rate held for the hold period.
type rateStep struct {
	rate      float64 // asked
	sent      int
	errors    int
	p50, p99  time.Duration
	wall      time.Duration
	hubidCPU  time.Duration
	errSample string
}

func (s rateStep) ok(o rateOptions) bool { return s.errors == 0 && s.p99 < o.p99 && s.sent > 0 }

// rateSearch is the search for one mode.
type rateSearch struct {
	mode  string
	steps []rateStep
	best  float64 // highest rate that met the objective; 0 if none
}

// modeTitles name the modes in the report.
var modeTitles = map[string]string{
	"refresh": "Refresh grants (rotation, RS256 access + ID token)",
	"mix":     "Mix: 10 % full sign-ins (argon2id default), 40 % refreshes, 50 % userinfo",
}

// searchRates runs the search for every mode against c.
func searchRates(ctx context.Context, o rateOptions, log io.Writer, c *client, sessions []session, users int, cpu cpuMeter) ([]rateSearch, error) {
	var out []rateSearch
	pool := newTokenPool(sessions)
	for _, mode := range o.modes {
		op := newRateOp(mode, c, pool, users)
		rs := rateSearch{mode: mode}
		for rate := o.start; rate <= o.max; rate += o.step {
			time.Sleep(settle) // let the previous step's queues drain
			st, err := openLoop(ctx, rate, o.hold, op, cpu)
			if err != nil {
				return append(out, rs), err
			}
			rs.steps = append(rs.steps, st)
			fmt.Fprintf(log, "hubid-bench: %-8s %6.0f/s for %s: %6d sent %4d errors  p50 %6s ms  p99 %6s ms  hubid %.2f cores  %s\n",
				mode, rate, o.hold, st.sent, st.errors, ms(st.p50), ms(st.p99), st.hubidCPU.Seconds()/st.wall.Seconds(), held(st.ok(o)))
			if st.errSample != "" {
				fmt.Fprintln(log, "    error:", st.errSample)
			}
			if !st.ok(o) {
				break
			}
			rs.best = rate
		}
		out = append(out, rs)
	}
	return out, nil
}

// tokenPool holds the signed-in sessions' refresh chains and recent
// access tokens across the whole search. Chains are handed out through a
// channel: a chain is used by one request at a time, and a request waits
// (its latency growing) while every chain is busy.
type tokenPool struct {
	chains chan string
	mu     sync.Mutex
	access []string // recent access tokens, renewed by the refreshes
	next   int
}

func newTokenPool(sessions []session) *tokenPool {
	p := &tokenPool{chains: make(chan string, len(sessions)), access: make([]string, len(sessions))}
	for i, s := range sessions {
		p.chains <- s.RefreshToken
		p.access[i] = s.AccessToken
	}
	return p
}

// newRateOp returns the request of a mode: op(k) is the k-th request.
func newRateOp(mode string, c *client, p *tokenPool, users int) func(ctx context.Context, k int) error {
	refresh := func(ctx context.Context) error {
		var tok string
		select {
		case tok = <-p.chains:
		case <-time.After(30 * time.Second):
			return errors.New("no refresh chain free for 30 s (chains are dropped on errors)")
		case <-ctx.Done():
			return ctx.Err()
		}
		t, err := c.Refresh(ctx, tok)
		if err != nil {
			return err // the chain is dropped: it may have been rotated
		}
		p.chains <- t.RefreshToken
		p.mu.Lock()
		p.next = (p.next + 1) % len(p.access)
		p.access[p.next] = t.AccessToken
		p.mu.Unlock()
		return nil
	}
	userinfo := func(ctx context.Context, k int) error {
		p.mu.Lock()
		at := p.access[k%len(p.access)]
		p.mu.Unlock()
		return c.Userinfo(ctx, at)
	}
	signin := func(ctx context.Context, k int) error {
		_, err := c.SignIn(ctx, userEmail(k%users))
		return err
	}
	if mode == "refresh" {
		return func(ctx context.Context, _ int) error { return refresh(ctx) }
	}
	return func(ctx context.Context, k int) error {
		switch k % 10 {
		case 0:
			return signin(ctx, k/10)
		case 1, 3, 5, 7:
			return refresh(ctx)
		default:
			return userinfo(ctx, k)
		}
	}
}

// openLoop sends op at rate a second for hold and measures the answers.
func openLoop(ctx context.Context, rate float64, hold time.Duration, op func(context.Context, int) error, cpu cpuMeter) (rateStep, error) {
	st := rateStep{rate: rate}
	n := int(rate * hold.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	lat := make([]time.Duration, n)
	failed := make([]bool, n)
	var errMu sync.Mutex
	var inFlight atomic.Int64
	cpu0, err := cpu.CPU()
	if err != nil {
		return st, err
	}
	start := time.Now()
	var wg sync.WaitGroup
	for k := range n {
		due := start.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				wg.Wait()
				return st, ctx.Err()
			}
		}
		if inFlight.Add(1) > maxInFlight {
			inFlight.Add(-1)
			failed[k] = true
			continue
		}
		wg.Go(func() {
			defer inFlight.Add(-1)
			err := op(ctx, k)
			lat[k] = time.Since(due)
			if err != nil {
				failed[k] = true
				errMu.Lock()
				if st.errSample == "" {
					st.errSample = err.Error()
				}
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	st.wall = time.Since(start)
	cpu1, err := cpu.CPU()
	if err != nil {
		return st, err
	}
	st.hubidCPU = cpu1 - cpu0
	st.sent = n
	var ok []time.Duration
	for k := range n {
		if failed[k] {
			st.errors++
			continue
		}
		ok = append(ok, lat[k])
	}
	if st.errors > 0 && st.errSample == "" {
		st.errSample = fmt.Sprintf("more than %d requests open at once", maxInFlight)
	}
	st.p50, st.p99 = percentiles(ok)
	if err := ctx.Err(); err != nil {
		return st, err
	}
	return st, nil
}

func held(ok bool) string {
	if ok {
		return "held"
	}
	return "missed"
}

// ratesMarkdown is the report of the searches.
func ratesMarkdown(o rateOptions, r *report, searches []rateSearch) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Open-loop rate search, %s, %s. Load average before %s, after %s. Objective: p99 < %s ms and no error for %s per step; steps of %.0f/s from %.0f/s.\n\n",
		r.date.UTC().Format("2006-01-02 15:04 MST"), r.machine.cpuModel, r.loadBefore, r.loadAfter, ms(o.p99), o.hold, o.step, o.start)
	for _, s := range searches {
		fmt.Fprintf(&b, "**%s**: highest rate held **%.0f/s**\n\n", modeTitles[s.mode], s.best)
		b.WriteString("| rate asked | sent | errors | p50 ms | p99 ms | hubid cores | requests per hubid CPU-s | objective |\n|---:|---:|---:|---:|---:|---:|---:|:-:|\n")
		for _, st := range s.steps {
			per := 0.0
			if st.hubidCPU > 0 {
				per = float64(st.sent-st.errors) / st.hubidCPU.Seconds()
			}
			fmt.Fprintf(&b, "| %.0f/s | %d | %d | %s | %s | %.2f | %s | %s |\n", st.rate, st.sent, st.errors,
				ms(st.p50), ms(st.p99), st.hubidCPU.Seconds()/st.wall.Seconds(), num(per), held(st.ok(o)))
		}
		b.WriteString("\n")
	}
	return b.String()
}

var errNoModes = errors.New("-rate-modes: name refresh, mix or both")
