package memory

import (
	"sync"
	"time"
)

// DefaultAutosaveDelay is AutosaveOptions.Delay when zero: a process
// killed without its shutdown save loses at most about this much.
const DefaultAutosaveDelay = time.Second

// AutosaveOptions configures Autosave.
type AutosaveOptions struct {
	// Delay bounds how long a change stays unsaved: the first write after
	// a save starts a timer of Delay, and the save at its end covers every
	// write made meanwhile (however many: one save per Delay at most, and
	// a steady stream of writes does not postpone it). Zero means
	// DefaultAutosaveDelay.
	Delay time.Duration
	// After is the timer; nil means time.After. Tests inject their own.
	After func(time.Duration) <-chan time.Time
	// Saved, when not nil, is called after every save with its error.
	Saved func(error)
}

// Autosave saves the store to path (as Save: temporary file, then rename,
// so a crash never leaves a half-written file) a short while after every
// write, until stop is called; stop waits for a save in progress, saves
// once more (the shutdown save) and returns that save's error. A store
// has at most one autosave at a time.
func (s *Store) Autosave(path string, opt AutosaveOptions) (stop func() error) {
	if opt.Delay <= 0 {
		opt.Delay = DefaultAutosaveDelay
	}
	if opt.After == nil {
		opt.After = time.After
	}
	changed := make(chan struct{}, 1)
	s.mu.Lock()
	s.changed = changed
	s.mu.Unlock()

	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-changed:
			}
			select {
			case <-quit:
				return
			case <-opt.After(opt.Delay):
			}
			// Writes signalled so far are in this save; only a write
			// after this point starts the next timer.
			select {
			case <-changed:
			default:
			}
			err := s.Save(path)
			if opt.Saved != nil {
				opt.Saved(err)
			}
		}
	}()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			close(quit)
			<-done
			s.mu.Lock()
			s.changed = nil
			s.mu.Unlock()
			err = s.Save(path)
		})
		return err
	}
}

// touch tells a running autosave that a write is under way; s.mu must be
// held (the save it triggers waits for the lock, so it sees the write).
func (s *Store) touch() {
	if s.changed == nil {
		return
	}
	select {
	case s.changed <- struct{}{}:
	default: // a save is already pending
	}
}
