package clustertest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Load runs an operation in a loop on several workers until Stop, and
// counts successes and failures (keeping the first failures' errors).
// Stop lets the requests in flight finish: a request cut by the test
// would count against the service (and, for a refresh, lose the token).
type Load struct {
	ok, failed atomic.Int64
	stopped    atomic.Bool
	wg         sync.WaitGroup
	mu         sync.Mutex
	errs       []error
	byReplica  map[string]int
}

// StartLoad starts workers running op; op returns the replica that
// answered ("" when unknown) and an error for a failed request.
func StartLoad(workers int, op func(ctx context.Context, worker int) (string, error)) *Load {
	l := &Load{byReplica: map[string]int{}}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for !l.stopped.Load() {
				replica, err := op(context.Background(), w)
				l.mu.Lock()
				if err != nil {
					l.failed.Add(1)
					if len(l.errs) < 20 {
						l.errs = append(l.errs, err)
					}
				} else {
					l.ok.Add(1)
					l.byReplica[replica]++
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// OK is the number of successful requests so far.
func (l *Load) OK() int64 { return l.ok.Load() }

// Served is the number of successful requests that replica answered so
// far.
func (l *Load) Served(replica string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byReplica[replica]
}

// Failed is the number of failed requests so far.
func (l *Load) Failed() int64 { return l.failed.Load() }

// WaitOK waits until n more requests than now have succeeded (at most
// within), failing the test otherwise.
func (l *Load) WaitOK(tb testing.TB, n int64, within time.Duration) {
	tb.Helper()
	target := l.OK() + n
	WaitFor(tb, nil, within, "load", func(context.Context) error {
		if l.OK() >= target {
			return nil
		}
		return errNotYet
	})
}

// Stop ends the load and returns the successes per replica and the
// first errors.
func (l *Load) Stop() (map[string]int, []error) {
	l.stopped.Store(true)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byReplica, l.errs
}

type notYet struct{}

func (notYet) Error() string { return "not yet" }

var errNotYet error = notYet{}
