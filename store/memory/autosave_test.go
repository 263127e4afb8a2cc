package memory

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// waitFor receives from c; a guard against a hang, not a timing check.
func waitFor[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

// noneOf fails when c already holds a value.
func noneOf[T any](t *testing.T, what string, c <-chan T) {
	t.Helper()
	select {
	case <-c:
		t.Fatalf("unexpected %s", what)
	default:
	}
}

// savedSessions loads path into a new store and counts the sessions.
func savedSessions(t *testing.T, path string, clk *storetest.Clock) int {
	t.Helper()
	b := New(Options{Now: clk.Now})
	if err := b.Load(path); err != nil {
		t.Fatal(err)
	}
	return len(b.sessions)
}

// TestAutosaveDebounce: the first write after a save starts one timer of
// the configured delay; every write until it fires is in the one save at
// its end (nothing is saved before); a later write starts the next timer;
// stop saves what is left.
func TestAutosaveDebounce(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
	s := New(Options{Now: clk.Now})
	path := filepath.Join(t.TempDir(), "ephemeral.gob")
	timers := make(chan chan time.Time)
	saved := make(chan error, 10)
	const delay = 1500 * time.Millisecond
	stop := s.Autosave(path, AutosaveOptions{
		Delay: delay,
		After: func(d time.Duration) <-chan time.Time {
			if d != delay {
				t.Errorf("timer of %v, want %v", d, delay)
			}
			c := make(chan time.Time, 1)
			timers <- c
			return c
		},
		Saved: func(err error) { saved <- err },
	})
	create := func(i int) {
		now := clk.Now()
		x := store.Session{ID: fmt.Sprintf("s-%d", i), UserID: "u1", CreatedAt: now, LastSeen: now,
			ExpiresAt: now.Add(time.Hour), AbsoluteEnd: now.Add(2 * time.Hour)}
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}

	// fire waits for the timer the saver asks for after a write, checks
	// that nothing was saved before it fires, fires it and checks the
	// save it triggers holds want sessions.
	fire := func(what string, want int) {
		t.Helper()
		timer := waitFor(t, "timer after "+what, timers)
		noneOf(t, "save before the timer fired ("+what+")", saved)
		timer <- clk.Now()
		if err := waitFor(t, "save when the timer fired ("+what+")", saved); err != nil {
			t.Fatal(err)
		}
		if n := savedSessions(t, path, clk); n != want {
			t.Fatalf("%s: %d sessions saved, want %d", what, n, want)
		}
	}
	create(0)
	for i := 1; i < 20; i++ { // before the first timer fires
		create(i)
	}
	fire("the first 20 writes", 20)
	create(20)
	fire("the next write", 21)

	// A write whose timer has not fired is saved by stop.
	create(21)
	waitFor(t, "timer after the last write", timers)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := savedSessions(t, path, clk); n != 22 {
		t.Fatalf("%d sessions after stop, want 22", n)
	}
	noneOf(t, "autosave after stop", saved)
	create(22) // the store stays usable, with nothing listening
}

// TestAutosaveOnlyWrites: writes signal the autosave; reads and saves
// (the autosave's own included) do not, or every save would start the
// next.
func TestAutosaveOnlyWrites(t *testing.T) {
	ctx := context.Background()
	s := New(Options{})
	s.changed = make(chan struct{}, 1) // as Autosave sets it, without its saver
	now := time.Now()
	x := store.Session{ID: "s-1", UserID: "u1", CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour), AbsoluteEnd: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, x); err != nil {
		t.Fatal(err)
	}
	if len(s.changed) != 1 {
		t.Fatal("a write did not signal the autosave")
	}
	<-s.changed
	if _, err := s.GetSession(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListUserSessions(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(filepath.Join(t.TempDir(), "e.gob")); err != nil {
		t.Fatal(err)
	}
	if len(s.changed) != 0 {
		t.Fatal("a read or a save signalled the autosave")
	}
}
