// Package storetest holds the conformance suites that every storage
// backend runs (RunEphemeral for store.Ephemeral), and the fake Clock they
// share. A backend's own test file only opens a store and calls the suite.
package storetest

import (
	"sync"
	"time"
)

// Clock is a settable fake clock for conformance suites. Backends take its
// Now method as their injected clock; tests move time with Advance instead
// of sleeping. It is safe for concurrent use.
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
