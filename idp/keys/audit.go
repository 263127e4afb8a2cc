package keys

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/customerhub/hubid/store"
)

// AuditAppender is the part of the durable store the audit hook needs
// (store.AuditStore satisfies it).
type AuditAppender interface {
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
}

// AuditKind returns the audit event kind of a state change: "key.next",
// "key.active", "key.retired" or "key.removed".
func AuditKind(e Event) string {
	if e.To == "" {
		return "key.removed"
	}
	return "key." + e.To
}

// AuditTo returns a Config.OnChange hook that appends one audit event per
// state change: kind AuditKind(e), the actor from WithActor, and the kid,
// algorithm, previous state and forced flag in Detail. The change is
// already committed when the hook runs, so a failed append is logged, not
// returned.
func AuditTo(a AuditAppender, log *slog.Logger) func(context.Context, Event) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, e Event) {
		ev := store.AuditEvent{
			Time:    e.At,
			Kind:    AuditKind(e),
			ActorID: ActorOf(ctx),
			Detail: map[string]string{
				"kid": e.KID, "alg": e.Algorithm, "from": stateName(e.From),
				"forced": strconv.FormatBool(e.Forced),
			},
		}
		if _, err := a.AppendAudit(context.WithoutCancel(ctx), ev); err != nil {
			log.ErrorContext(ctx, "audit signing key state change", slog.String("kind", ev.Kind),
				slog.String("kid", e.KID), slog.Any("err", err))
		}
	}
}
