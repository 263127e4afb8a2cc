package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestOpenLoop: every due request is sent, whatever the answers take,
// and failures are counted.
func TestOpenLoop(t *testing.T) {
	var calls atomic.Int64
	op := func(ctx context.Context, k int) error {
		calls.Add(1)
		if k%5 == 4 {
			return errors.New("boom")
		}
		time.Sleep(20 * time.Millisecond) // slower than the interval: requests overlap
		return nil
	}
	st, err := openLoop(context.Background(), 400, 100*time.Millisecond, op, &fakeCPU{})
	if err != nil {
		t.Fatal(err)
	}
	if st.sent != 40 || calls.Load() != 40 || st.errors != 8 || st.errSample != "boom" {
		t.Fatalf("sent %d, calls %d, errors %d (%q)", st.sent, calls.Load(), st.errors, st.errSample)
	}
	if st.p50 < 20*time.Millisecond || st.p99 < st.p50 || st.hubidCPU != 100*time.Millisecond {
		t.Fatalf("p50 %v p99 %v cpu %v", st.p50, st.p99, st.hubidCPU)
	}
}

// TestRateSearchStopsAtFirstMiss drives the search against an in-process
// hubid: the refresh search holds the first rates and stops at the first
// step that misses the objective (here a p99 objective nothing meets).
func TestRateSearchStopsAtFirstMiss(t *testing.T) {
	settle = 0
	c, bySession := benchHubid(t, 4)
	sessions := bySession[""]
	o := rateOptions{start: 20, step: 20, max: 60, hold: 200 * time.Millisecond, p99: time.Hour, modes: []string{"refresh", "mix"}}
	searches, err := searchRates(context.Background(), o, io.Discard, c, sessions, 3, &fakeCPU{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range searches {
		if s.best != 60 || len(s.steps) != 3 || s.steps[2].errors != 0 {
			t.Errorf("%s: best %v after %d steps: %+v", s.mode, s.best, len(s.steps), s.steps)
		}
	}
	o.p99, o.modes = time.Nanosecond, []string{"refresh"}
	searches, err = searchRates(context.Background(), o, io.Discard, c, sessions, 3, &fakeCPU{})
	if err != nil || len(searches[0].steps) != 1 || searches[0].best != 0 {
		t.Fatalf("impossible objective: %+v, %v", searches, err)
	}
	md := ratesMarkdown(o, &report{}, searches)
	if !strings.Contains(md, "highest rate held **0/s**") {
		t.Errorf("report:\n%s", md)
	}
}
