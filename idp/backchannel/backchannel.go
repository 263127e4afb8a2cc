// Package backchannel delivers OpenID Connect Back-Channel Logout 1.0
// logout tokens to relying parties.
//
// Ending a session calls Enqueue, which writes one durable outbox message
// per signed-in client that registered a back-channel logout URI. A Worker
// (the generic outbox.Worker with this package's handler) claims due
// messages under a lease, signs a logout token with the signing
// key active at delivery time (a retry after a key rotation uses the new
// key, a fresh iat and a fresh jti), POSTs it to the registered URI without
// following redirects, and marks the message sent, or failed with the next
// attempt after an exponential backoff, giving up after MaxAttempts.
package backchannel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/customerhub/hubid/store"
)

// Kind is the outbox message kind of a back-channel logout.
const Kind = "backchannel_logout"

// Event is the logout token's event type (the key of its `events` claim).
const Event = "http://schemas.openid.net/event/backchannel-logout"

// Outbox is where Enqueue writes the messages and the person's history;
// a transaction's store.Durable satisfies it, so both are written together
// with the change that caused them.
type Outbox interface {
	EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (int64, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
}

// AuditNotified is the audit kind of a sign-out sent to a service over
// the back channel: one event per service, in the person's history.
const AuditNotified = "signout.backchannel"

// ClientGetter looks up a relying party.
type ClientGetter interface {
	GetClient(ctx context.Context, id string) (store.Client, error)
}

// Payload is the JSON payload of one outbox message. The URI is the one
// registered when the session ended; Issuer records the issuer at that time
// (the token carries the worker's Config.Issuer, just as it is signed with
// the key active at delivery).
type Payload struct {
	ClientID string    `json:"client_id"`
	URI      string    `json:"uri"`
	SID      string    `json:"sid"`
	Sub      string    `json:"sub"`
	Issuer   string    `json:"iss,omitempty"`
	IssuedAt time.Time `json:"issued_at"`
}

// Enqueue queues a back-channel logout of session s for each of its
// clients that has a back-channel logout URI, due at now, records each in
// the person's history (AuditNotified), and returns how many it queued. Clients that no longer exist are skipped; a client listed
// twice is notified once. On error some messages may already be queued:
// call it inside store.Durable.InTx for all or none.
func Enqueue(ctx context.Context, out Outbox, clients ClientGetter, issuer string, s store.Session, now time.Time) (int, error) {
	n := 0
	seen := make(map[string]bool, len(s.Clients))
	for _, id := range s.Clients {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		c, err := clients.GetClient(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("backchannel: enqueue for client %q: %w", id, err)
		}
		if c.BackchannelLogoutURI == "" {
			continue
		}
		body, err := json.Marshal(Payload{
			ClientID: c.ID, URI: c.BackchannelLogoutURI, SID: s.ID, Sub: s.UserID,
			Issuer: issuer, IssuedAt: now.UTC(),
		})
		if err != nil {
			return n, fmt.Errorf("backchannel: encode payload: %w", err)
		}
		if _, err := out.EnqueueOutbox(ctx, store.OutboxMessage{
			Kind: Kind, Payload: body, CreatedAt: now, NextAttempt: now,
		}); err != nil {
			return n, fmt.Errorf("backchannel: enqueue for client %q: %w", id, err)
		}
		if _, err := out.AppendAudit(ctx, store.AuditEvent{Time: now, Kind: AuditNotified, ActorID: s.UserID,
			UserID: s.UserID, ClientID: c.ID}); err != nil {
			return n, fmt.Errorf("backchannel: audit for client %q: %w", id, err)
		}
		n++
	}
	return n, nil
}
