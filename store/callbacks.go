package store

import "sync"

// Callbacks holds the OnInvalidate callbacks of an ephemeral backend
// (announcements that a cached record changed); safe for concurrent use,
// the zero value is ready.
type Callbacks struct {
	mu sync.Mutex
	fn []func(kind, id string)
}

// Add registers fn.
func (c *Callbacks) Add(fn func(kind, id string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fn = append(c.fn, fn)
}

// Call runs every callback with kind and id.
func (c *Callbacks) Call(kind, id string) {
	c.mu.Lock()
	fns := c.fn
	c.mu.Unlock()
	for _, fn := range fns {
		fn(kind, id)
	}
}
