package idp

import (
	"context"
	"fmt"
	"slices"

	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/idp/oidcstore"
	"github.com/customerhub/hubid/store"
)

// ensureClientAlgorithms gives every access token algorithm a registered
// client uses (access_token_signing_algorithm ES256) its active and next
// keys at start-up, so such a client's first token is already signed with
// it; from then on the keys manager rotates it alongside RS256. A client
// given the algorithm later gets its key on the first token that needs it
// (oidcstore.Storage.SigningKey).
func ensureClientAlgorithms(ctx context.Context, km *keys.Manager, d interface {
	ListClients(context.Context) ([]store.Client, error)
}) error {
	cs, err := d.ListClients(ctx)
	if err != nil {
		return fmt.Errorf("signing keys: list clients: %w", err)
	}
	have := km.Algorithms()
	for _, c := range cs {
		alg := oidcstore.AccessAlgorithm(c)
		if slices.Contains(have, alg) {
			continue
		}
		if err := km.EnsureAlgorithm(ctx, alg); err != nil {
			return fmt.Errorf("signing keys for client %s (%s): %w", c.ID, alg, err)
		}
		have = append(have, alg)
	}
	return nil
}
