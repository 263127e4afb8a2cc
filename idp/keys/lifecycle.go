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

// Event describes one state change, for logs and audit.
type Event struct {
	KID, Algorithm string
	From, To       string // "" = created / removed
	Forced         bool
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
			ev = append(ev, Event{KID: k.ID, Algorithm: alg, From: "next", To: "active", Forced: true})
			keys = append(keys[:0:0], k)
		} else {
			k, err := gen(alg, now)
			if err != nil {
				return ch, nil, err
			}
			k.State, k.ActivatedAt = store.KeyActive, now
			ch.Put = append(ch.Put, k)
			ev = append(ev, Event{KID: k.ID, Algorithm: alg, To: "active"})
		}
	}
	if len(byState(keys, alg, store.KeyNext)) == 0 {
		k, err := gen(alg, now)
		if err != nil {
			return ch, nil, err
		}
		k.State = store.KeyNext
		ch.Put = append(ch.Put, k)
		ev = append(ev, Event{KID: k.ID, Algorithm: alg, To: "next"})
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
		return ch, nil, fmt.Errorf("%w: %s has been published since %s; it may sign from %s (services cache the key set that long); use --force to activate it now",
			ErrTooEarly, n.ID, n.CreatedAt.UTC().Format(time.RFC3339), ready.UTC().Format(time.RFC3339))
	}
	for _, a := range byState(keys, alg, store.KeyActive) {
		a.State, a.RetiredAt, a.RemoveAfter = store.KeyRetired, now, now.Add(p.RetireFor)
		ch.Put = append(ch.Put, a)
		ev = append(ev, Event{KID: a.ID, Algorithm: alg, From: "active", To: "retired"})
	}
	n.State, n.ActivatedAt = store.KeyActive, now
	ch.Put = append(ch.Put, n)
	ev = append(ev, Event{KID: n.ID, Algorithm: alg, From: "next", To: "active", Forced: force && now.Before(n.CreatedAt.Add(p.PublishBefore))})
	k, err := gen(alg, now)
	if err != nil {
		return ch, nil, err
	}
	k.State = store.KeyNext
	ch.Put = append(ch.Put, k)
	ev = append(ev, Event{KID: k.ID, Algorithm: alg, To: "next"})
	return ch, ev, nil
}

// PlanSweep removes retired keys whose tokens have all expired.
func PlanSweep(keys []store.SigningKey, now time.Time) (store.KeyChange, []Event) {
	var ch store.KeyChange
	var ev []Event
	for _, k := range keys {
		if k.State == store.KeyRetired && !now.Before(k.RemoveAfter) {
			ch.Delete = append(ch.Delete, k.ID)
			ev = append(ev, Event{KID: k.ID, Algorithm: k.Algorithm, From: "retired"})
		}
	}
	return ch, ev
}

func merge(a, b store.KeyChange) store.KeyChange {
	return store.KeyChange{Put: append(a.Put, b.Put...), Delete: append(a.Delete, b.Delete...)}
}
