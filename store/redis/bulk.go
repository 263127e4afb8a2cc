package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/customerhub/hubid/store"
)

// Bulk loading, for seeding large stores (cmd/hubid-bench seed): the same
// scripts with the same arguments as CreateSession and CreateRefreshToken,
// so the records are exactly theirs, but sent as one pipeline per call
// (EVALSHA; go-redis splits a pipeline by node on Cluster) instead of one
// round trip each. A record whose key holds a live one is left alone and
// counted in the error, as CreateSession's ErrAlreadyExists.

// BulkCreateSessions stores sessions and indexes them by user, as
// CreateSession does one by one.
func (s *Store) BulkCreateSessions(ctx context.Context, xs []store.Session) error {
	const op = "bulk create sessions"
	if err := s.loadScripts(ctx, op, createScript, indexAddScript); err != nil {
		return err
	}
	now := s.now()
	cmds := make([]*goredis.Cmd, 0, 2*len(xs))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, x := range xs {
			clampSession(&x)
			args, err := createArgs(op, sessionJSON(x), x.ExpiresAt, now)
			if err != nil {
				return err
			}
			cmds = append(cmds, createScript.EvalSha(ctx, p, []string{s.sessionKey(x.ID)}, args...))
			if ttl := ttlMillis(x.ExpiresAt, now); ttl > 0 {
				cmds = append(cmds, indexAddScript.EvalSha(ctx, p, []string{s.userKey(x.UserID)}, x.ID, ttl))
			}
		}
		return nil
	})
	return s.bulkResult(op, cmds, err)
}

// BulkCreateRefreshTokens stores refresh tokens and extends their
// families, as CreateRefreshToken does one by one.
func (s *Store) BulkCreateRefreshTokens(ctx context.Context, ts []store.RefreshToken) error {
	const op = "bulk create refresh tokens"
	if err := s.loadScripts(ctx, op, createTokenScript); err != nil {
		return err
	}
	now := s.now()
	cmds := make([]*goredis.Cmd, 0, len(ts))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, t := range ts {
			if t.FamilyID == "" {
				return errNoFamily
			}
			keys := []string{s.tokenKey(t.FamilyID, t.ID), s.familyKey(t.FamilyID)}
			exp := t.ExpiresAt
			extra := tokenFields(&t)
			args, err := createArgs(op, tokenJSON(t), exp, now, extra...)
			if err != nil {
				return err
			}
			cmds = append(cmds, createTokenScript.EvalSha(ctx, p, keys, args...))
		}
		return nil
	})
	return s.bulkResult(op, cmds, err)
}

// loadScripts makes sure the scripts are cached on the server(s), so
// that EVALSHA in a pipeline finds them.
func (s *Store) loadScripts(ctx context.Context, op string, scripts ...*goredis.Script) error {
	for _, sc := range scripts {
		if err := sc.Load(ctx, s.c).Err(); err != nil {
			return s.fail(op, err)
		}
	}
	return nil
}

// bulkResult checks every reply of a bulk pipeline: a failed command is
// an error, and records refused because a live one held their key are
// counted into one ErrAlreadyExists.
func (s *Store) bulkResult(op string, cmds []*goredis.Cmd, err error) error {
	if err != nil {
		var redisErr goredis.Error
		if errors.As(err, &redisErr) {
			return fmt.Errorf("store/redis: %s: %w", op, err)
		}
		return s.fail(op, err)
	}
	clashes := 0
	for _, c := range cmds {
		if n, err := c.Int(); err != nil {
			return fmt.Errorf("store/redis: %s: %w", op, err)
		} else if n == 0 {
			clashes++
		}
	}
	if clashes > 0 {
		return fmt.Errorf("store/redis: %s: %d of %d records exist already: %w", op, clashes, len(cmds), store.ErrAlreadyExists)
	}
	return nil
}
