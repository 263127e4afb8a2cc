// Package consent decides when a person must be asked before a client gets
// their data, and remembers what they granted.
//
// The decision is a pure function of the client, the remembered grant, the
// requested scopes and the prompt parameter: first-party clients never ask;
// for the others every requested scope except openid needs consent
// (offline_access included: it is the most sensitive), unless it was
// granted before; prompt=consent asks for all of them again.
//
// Grants only grow: Remember merges newly granted scopes into the stored
// grant. Withdrawing consent is the store's DeleteConsent (the account
// page's "revoke"), which removes the whole grant. The package has no HTTP:
// the page that asks is idp/consentui, and the descriptions it shows are
// message keys (ScopeKey) whose text lives in that page's i18n table.
package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/customerhub/hubid/store"
)

// ScopeOpenID is the scope that only says "this is an OpenID Connect
// request"; it reveals nothing beyond the account ID and needs no consent.
const ScopeOpenID = "openid"

// Decision is what Decide concluded for one authorization request.
type Decision struct {
	// Needed is true when the person must be asked before the request
	// completes.
	Needed bool
	// Missing are the scopes to ask for, in the order requested, without
	// duplicates; empty when Needed is false.
	Missing []string
}

// Decide reports whether client c needs the person's consent for the
// requested scopes, given their remembered grant g (nil when there is
// none) and the request's prompt values.
func Decide(c store.Client, g *store.ConsentGrant, requested []string, prompt []string) Decision {
	if c.FirstParty {
		return Decision{}
	}
	force := slices.Contains(prompt, "consent")
	var missing []string
	for _, s := range requested {
		if !Consentable(s) || slices.Contains(missing, s) {
			continue
		}
		if !force && g != nil && slices.Contains(g.Scopes, s) {
			continue
		}
		missing = append(missing, s)
	}
	return Decision{Needed: len(missing) > 0, Missing: missing}
}

// Consentable reports whether a scope is something a person grants: any
// non-empty scope but openid.
func Consentable(scope string) bool { return scope != "" && scope != ScopeOpenID }

// Grants is the consent storage Remember reads and writes (store.Durable,
// or better the transaction InTx passes, see Remember).
type Grants interface {
	GetConsent(ctx context.Context, userID, clientID string) (store.ConsentGrant, error)
	PutConsent(ctx context.Context, g store.ConsentGrant) error
}

// Remember adds scopes to the grant userID gave clientID: the stored scopes
// become the sorted union of the old and the new ones (openid is never
// stored), UpdatedAt becomes now, CreatedAt stays that of the first grant.
// Scopes with nothing consentable change nothing.
//
// It is a read-modify-write: run it on the transaction of
// store.Durable.InTx so two consents of the same person cannot lose one
// another's scopes (SQLite serializes write transactions; on PostgreSQL a
// lost update between two simultaneous consents of one person to one
// client would only mean being asked again).
func Remember(ctx context.Context, st Grants, userID, clientID string, scopes []string, now time.Time) error {
	var add []string
	for _, s := range scopes {
		if Consentable(s) {
			add = append(add, s)
		}
	}
	if len(add) == 0 {
		return nil
	}
	g, err := st.GetConsent(ctx, userID, clientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		g = store.ConsentGrant{UserID: userID, ClientID: clientID, CreatedAt: now}
	case err != nil:
		return fmt.Errorf("consent: read grant: %w", err)
	}
	merged := append(slices.Clone(g.Scopes), add...)
	slices.Sort(merged)
	g.Scopes = slices.Compact(merged)
	g.UpdatedAt = now
	if err := st.PutConsent(ctx, g); err != nil {
		return fmt.Errorf("consent: write grant: %w", err)
	}
	return nil
}

// Message keys of the scope descriptions (idp/consentui's table).
const (
	KeyPrefix = "consent.scope."
	// KeyOther describes a scope without a description of its own; its
	// one argument is the scope's raw name.
	KeyOther = KeyPrefix + "other"
)

// described are the scopes with a description of their own.
var described = []string{"profile", "email", "offline_access", "roles"}

// ScopeKey returns the message key describing scope to a person:
// "consent.scope.<scope>" for the known scopes, KeyOther (to be given the
// scope's name as its argument) for any other.
func ScopeKey(scope string) string {
	if slices.Contains(described, scope) {
		return KeyPrefix + scope
	}
	return KeyOther
}
