package keys

import (
	"errors"
	"fmt"
	"time"

	"github.com/customerhub/hubid/store"
)

// Policy holds the lifecycle timings.
type Policy struct {
	// RotationPeriod: an active key is rotated this long after activation.
	RotationPeriod time.Duration
	// PublishBefore: a next key is published at least this long (the JWKS
	// cache time) before it may sign.
	PublishBefore time.Duration
	// RetireFor: a retired key stays published this long (longest token
	// lifetime + clock skew) so every token it signed still verifies.
	RetireFor time.Duration
}

// ErrTooEarly: the next key has not been published long enough to activate.
var ErrTooEarly = errors.New("keys: next key published too briefly")

// Generator makes a new sealed key of an algorithm.
type Generator func(alg string, now time.Time) (store.SigningKey, error)

// Event describes one state change, for logs and audit. From is "" when
// the key was created, To is "" when it was removed.
type Event struct {
	KID, Algorithm string
	From, To       string
	// Forced: the change skipped a safety wait (a next key activated before
	// it was published for PublishBefore, or an emergency removal).
	Forced bool
	At     time.Time
}

func byState(keys []store.SigningKey, alg string, st store.KeyState) []store.SigningKey {
	var out []store.SigningKey
	for _, k := range keys {
		if k.Algorithm == alg && k.State == st {
			out = append(out, k)
		}
	}
	return out
}

// PlanEnsure returns the change that gives alg an active key and a next key
// when it lacks them. At first start there is no token to protect, so the
// first key is active at once.
func PlanEnsure(keys []store.SigningKey, alg string, now time.Time, gen Generator) (store.KeyChange, []Event, error) {
	var ch store.KeyChange
	var ev []Event
	if len(byState(keys, alg, store.KeyActive)) == 0 {
		if next := byState(keys, alg, store.KeyNext); len(next) > 0 {
			// A next key exists but nothing signs (e.g. after an emergency
			// retire): promote it now rather than leave the provider unable
			// to sign.
			k := next[0]
			k.State, k.ActivatedAt = store.KeyActive, now
			ch.Put = append(ch.Put, k)
			ev = append(ev, Event{KID: k.ID, Algorithm: alg, From: "next", To: "active", Forced: true, At: now})
			keys = append(keys[:0:0], k)
		} else {
			k, err := gen(alg, now)
			if err != nil {
				return ch, nil, err
			}
			k.State, k.ActivatedAt = store.KeyActive, now
			ch.Put = append(ch.Put, k)
			ev = append(ev, Event{KID: k.ID, Algorithm: alg, To: "active", At: now})
		}
	}
	if len(byState(keys, alg, store.KeyNext)) == 0 {
		k, err := gen(alg, now)
		if err != nil {
			return ch, nil, err
		}
		k.State = store.KeyNext
		ch.Put = append(ch.Put, k)
		ev = append(ev, Event{KID: k.ID, Algorithm: alg, To: "next", At: now})
	}
	return ch, ev, nil
}

// RotationDue reports whether alg's active key has reached its rotation time.
func RotationDue(keys []store.SigningKey, alg string, now time.Time, p Policy) bool {
	act := byState(keys, alg, store.KeyActive)
	return len(act) > 0 && !now.Before(act[0].ActivatedAt.Add(p.RotationPeriod))
}

// PlanRotate promotes next to active, retires the active key and creates a
// new next key. Without force it refuses (ErrTooEarly) while the next key
// has been published for less than PublishBefore.
func PlanRotate(keys []store.SigningKey, alg string, now time.Time, p Policy, force bool, gen Generator) (store.KeyChange, []Event, error) {
	var ch store.KeyChange
	var ev []Event
	next := byState(keys, alg, store.KeyNext)
	if len(next) == 0 {
		return ch, nil, fmt.Errorf("keys: no next key for %s", alg)
	}
	n := next[0]
	if ready := n.CreatedAt.Add(p.PublishBefore); now.Before(ready) && !force {
		return ch, nil, fmt.Errorf("%w: %s %s has been published since %s and may sign from %s (services cache the key set for up to publish_before); forcing the rotation activates it now",
			ErrTooEarly, alg, n.ID, n.CreatedAt.UTC().Format(time.RFC3339), ready.UTC().Format(time.RFC3339))
	}
	for _, a := range byState(keys, alg, store.KeyActive) {
		a.State, a.RetiredAt, a.RemoveAfter = store.KeyRetired, now, now.Add(p.RetireFor)
		ch.Put = append(ch.Put, a)
		ev = append(ev, Event{KID: a.ID, Algorithm: alg, From: "active", To: "retired", At: now})
	}
	n.State, n.ActivatedAt = store.KeyActive, now
	ch.Put = append(ch.Put, n)
	ev = append(ev, Event{KID: n.ID, Algorithm: alg, From: "next", To: "active", Forced: force && now.Before(n.CreatedAt.Add(p.PublishBefore)), At: now})
	k, err := gen(alg, now)
	if err != nil {
		return ch, nil, err
	}
	k.State = store.KeyNext
	ch.Put = append(ch.Put, k)
	ev = append(ev, Event{KID: k.ID, Algorithm: alg, To: "next", At: now})
	return ch, ev, nil
}

// PlanSweep removes retired keys whose tokens have all expired.
func PlanSweep(keys []store.SigningKey, now time.Time) (store.KeyChange, []Event) {
	var ch store.KeyChange
	var ev []Event
	for _, k := range keys {
		if k.State == store.KeyRetired && !now.Before(k.RemoveAfter) {
			ch.Delete = append(ch.Delete, k.ID)
			ev = append(ev, Event{KID: k.ID, Algorithm: k.Algorithm, From: "retired", At: now})
		}
	}
	return ch, ev
}

// PlanTick is the scheduled work at now: remove expired retired keys, give
// every algorithm in algs its active and next key if one is missing, and
// rotate the algorithms whose active key is due and whose next key has been
// published for PublishBefore (a due rotation with a next key published too
// briefly waits, it is never forced).
func PlanTick(keys []store.SigningKey, algs []string, now time.Time, p Policy, gen Generator) (store.KeyChange, []Event, error) {
	all, evs := PlanSweep(keys, now)
	for _, alg := range algs {
		var ch store.KeyChange
		var ev []Event
		var err error
		switch {
		case len(byState(keys, alg, store.KeyActive)) == 0 || len(byState(keys, alg, store.KeyNext)) == 0:
			ch, ev, err = PlanEnsure(keys, alg, now, gen)
		case RotationDue(keys, alg, now, p):
			ch, ev, err = PlanRotate(keys, alg, now, p, false, gen)
			if errors.Is(err, ErrTooEarly) {
				continue // the next key becomes ready later; rotate then
			}
		}
		if err != nil {
			return all, nil, err
		}
		all, evs = merge(all, ch), append(evs, ev...)
	}
	return all, evs, nil
}

// NextRotation returns when alg's scheduled rotation happens: the later of
// the active key's rotation time and the time its next key has been
// published for PublishBefore. It is zero when alg lacks an active or a
// next key.
func NextRotation(keys []store.SigningKey, alg string, p Policy) time.Time {
	act, next := byState(keys, alg, store.KeyActive), byState(keys, alg, store.KeyNext)
	if len(act) == 0 || len(next) == 0 {
		return time.Time{}
	}
	due, ready := act[0].ActivatedAt.Add(p.RotationPeriod), next[0].CreatedAt.Add(p.PublishBefore)
	if ready.After(due) {
		return ready
	}
	return due
}

func merge(a, b store.KeyChange) store.KeyChange {
	return store.KeyChange{Put: append(a.Put, b.Put...), Delete: append(a.Delete, b.Delete...)}
}
