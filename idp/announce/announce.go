// Package announce tells every replica that a durable record its
// in-memory caches may hold has changed. Notifying wraps the durable
// store: each committed write of such a record is announced on the Bus
// as a kind and an ID, after the outermost transaction commits, and not
// at all when it rolls back. The caches (idp/usercache, idp/claimcache)
// evict what an announcement names.
//
// cmd and idp wrap the only durable handle a process has, so every write
// through hubid is announced; a writer that bypasses it (SQL by hand, a
// process without Redis) is bounded by the caches' TTLs.
package announce

import (
	"context"
	"log/slog"

	"github.com/customerhub/hubid/store"
)

// Kinds of announcement.
const (
	// User: the user record with that ID changed or was deleted (its
	// memberships go with a deletion).
	User = "user"
	// Claims: the memberships or legacy links of the user with that ID
	// changed, or, with ID Everyone, an organization, an entitlement or a
	// service did.
	Claims = "claims"
)

// Everyone is the ID of a Claims announcement that concerns every person.
const Everyone = "*"

// Bus carries announcements to every replica (store/redis through
// pub/sub, store/memory in process).
type Bus interface {
	Invalidate(ctx context.Context, kind, id string) error
}

// Notifying returns d with every write of a user, a membership, a legacy
// link, an organization, an entitlement or a service announced on bus
// once it is committed. Wrapping a wrapped store returns it unchanged.
func Notifying(d store.Durable, bus Bus, log *slog.Logger) store.Durable {
	if n, ok := d.(*notifying); ok {
		return n
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &notifying{Durable: d, bus: bus, log: log}
}

type note struct{ kind, id string }

type notifying struct {
	store.Durable
	bus     Bus
	log     *slog.Logger
	pending *[]note // inside a transaction: what to announce after commit
}

// changed announces kind/id now, or after the outermost commit inside a
// transaction; a failed write (err != nil) announces nothing.
func (n *notifying) changed(ctx context.Context, err error, kind, id string) {
	if err != nil {
		return
	}
	if n.pending != nil {
		*n.pending = append(*n.pending, note{kind, id})
		return
	}
	n.announce(ctx, note{kind, id})
}

func (n *notifying) announce(ctx context.Context, x note) {
	if err := n.bus.Invalidate(ctx, x.kind, x.id); err != nil {
		n.log.WarnContext(ctx, "announce a change: other replicas may serve the old record until their cache entry expires",
			slog.String("kind", x.kind), slog.String("id", x.id), slog.Any("err", err))
	}
}

func (n *notifying) InTx(ctx context.Context, fn func(tx store.Durable) error) error {
	if n.pending != nil { // joins the outer transaction
		return n.Durable.InTx(ctx, func(tx store.Durable) error {
			return fn(&notifying{Durable: tx, bus: n.bus, log: n.log, pending: n.pending})
		})
	}
	var notes []note
	err := n.Durable.InTx(ctx, func(tx store.Durable) error {
		notes = notes[:0] // a retried transaction starts over
		return fn(&notifying{Durable: tx, bus: n.bus, log: n.log, pending: &notes})
	})
	if err == nil {
		for _, x := range notes {
			n.announce(ctx, x)
		}
	}
	return err
}
