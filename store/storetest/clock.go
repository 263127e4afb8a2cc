// Package storetest holds the conformance suites that every storage
// backend runs (RunEphemeral for store.Ephemeral), and the fake Clock they
// share. A backend's own test file only opens a store and calls the suite.
// OpenSQLite gives other packages' tests a migrated durable store.
package storetest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/store/sqlite"
)

// Clock is a settable fake clock for conformance suites and other
// packages' tests. Backends take its Now method as their injected clock;
// tests move time with Advance instead of sleeping. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads t0 until it is moved.
func NewClock(t0 time.Time) *Clock { return &Clock{now: t0} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// OpenSQLite opens a migrated SQLite store on a fresh file in tb's temp
// directory, reading now as its clock (nil: time.Now), and closes it when
// the test ends.
func OpenSQLite(tb testing.TB, now func() time.Time) *sqlite.Store {
	tb.Helper()
	return OpenSQLiteAt(tb, filepath.Join(tb.TempDir(), "hubid.db"), now)
}

// OpenSQLiteAt is OpenSQLite on the database file at path, which may be
// open already (another replica on the same database).
func OpenSQLiteAt(tb testing.TB, path string, now func() time.Time) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: now, Migrate: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
