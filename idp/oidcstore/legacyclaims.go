package oidcstore

import (
	"context"
	"slices"

	"github.com/customerhub/hubid/store"
)

// ClaimLegacyIDs lists the legacy login IDs linked to the person for the
// requesting client's service (scope roles), computed at every token
// issue: unlinking removes it from the next token.
const ClaimLegacyIDs = "legacy_ids"

// LegacyLinks is what the claim reads (store.Durable satisfies it).
type LegacyLinks interface {
	ListLegacyLinksByUser(ctx context.Context, userID string) ([]store.LegacyLink, error)
}

// legacyIDs returns the claim's value for a user and a client, nil when
// it does not apply (no roles scope, a client without a service).
func (s *Storage) legacyIDs(ctx context.Context, userID, clientID string, scopes []string) ([]string, error) {
	if !slices.Contains(scopes, ScopeRoles) || userID == "" || userID == clientID {
		return nil, nil
	}
	if s.links == nil {
		return nil, nil
	}
	c, err := s.client(ctx, clientID)
	if err != nil || c.ServiceID == "" {
		return nil, err
	}
	all, err := s.links.ListLegacyLinksByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, l := range all {
		if l.ServiceID == c.ServiceID {
			ids = append(ids, l.LoginID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// setLegacyClaim adds legacy_ids to claims through set.
func (s *Storage) setLegacyClaim(ctx context.Context, userID, clientID string, scopes []string, set func(string, any)) error {
	ids, err := s.legacyIDs(ctx, userID, clientID, scopes)
	if err != nil {
		return s.serverError(ctx, "legacy_ids claim", err)
	}
	if ids != nil {
		set(ClaimLegacyIDs, ids)
	}
	return nil
}
