package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

func durSigningKeys(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()

	keys, err := s.ListSigningKeys(ctx)
	durIs(t, "ListSigningKeys empty", err, nil)
	durEqual(t, "no keys", len(keys), 0)

	active := store.SigningKey{ID: "k1", Algorithm: "RS256", State: store.KeyActive,
		Sealed: []byte{0, 1, 2, 255, 0}, CreatedAt: now, ActivatedAt: now}
	next := store.SigningKey{ID: "k2", Algorithm: "ES256", State: store.KeyNext,
		Sealed: []byte("sealed-k2"), CreatedAt: now.Add(time.Second)}
	var seen []store.SigningKey
	err = s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) (store.KeyChange, error) {
		seen = keys
		return store.KeyChange{Put: []store.SigningKey{next, active}}, nil
	})
	durIs(t, "UpdateSigningKeys insert", err, nil)
	durEqual(t, "fn saw no keys", len(seen), 0)
	keys, err = s.ListSigningKeys(ctx)
	durIs(t, "ListSigningKeys", err, nil)
	durEqual(t, "keys after insert (oldest first)", keys, []store.SigningKey{active, next})

	// Rotate: next becomes active, active is retired, and an old key goes.
	clk.Advance(time.Hour)
	later := clk.Now()
	retired := active
	retired.State, retired.RetiredAt, retired.RemoveAfter = store.KeyRetired, later, later.Add(24*time.Hour)
	promoted := next
	promoted.State, promoted.ActivatedAt = store.KeyActive, later
	err = s.UpdateSigningKeys(ctx, func(keys []store.SigningKey) (store.KeyChange, error) {
		seen = keys
		return store.KeyChange{Put: []store.SigningKey{retired, promoted}}, nil
	})
	durIs(t, "UpdateSigningKeys replace", err, nil)
	durEqual(t, "fn saw the keys", seen, []store.SigningKey{active, next})
	keys, _ = s.ListSigningKeys(ctx)
	durEqual(t, "keys after rotation", keys, []store.SigningKey{retired, promoted})

	err = s.UpdateSigningKeys(ctx, func([]store.SigningKey) (store.KeyChange, error) {
		return store.KeyChange{Delete: []string{"k1", "unknown"}}, nil
	})
	durIs(t, "UpdateSigningKeys delete", err, nil)
	keys, _ = s.ListSigningKeys(ctx)
	durEqual(t, "keys after delete", keys, []store.SigningKey{promoted})

	// An error from fn applies nothing.
	boom := errors.New("boom")
	err = s.UpdateSigningKeys(ctx, func([]store.SigningKey) (store.KeyChange, error) {
		return store.KeyChange{Put: []store.SigningKey{active}, Delete: []string{"k2"}}, boom
	})
	durIs(t, "UpdateSigningKeys fn error", err, boom)
	keys, _ = s.ListSigningKeys(ctx)
	durEqual(t, "keys after fn error", keys, []store.SigningKey{promoted})
}

func durTOTP(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 1)

	pending := store.TOTPCredential{UserID: "u1", Sealed: []byte{9, 8, 7}, CreatedAt: now}
	durIs(t, "PutTOTP", s.PutTOTP(ctx, pending), nil)
	got, err := s.GetTOTP(ctx, "u1")
	durIs(t, "GetTOTP", err, nil)
	durEqual(t, "GetTOTP pending", got, pending)

	confirmed := store.TOTPCredential{UserID: "u1", Sealed: []byte{1, 2, 3, 4}, CreatedAt: now.Add(time.Minute),
		ConfirmedAt: now.Add(2 * time.Minute)}
	durIs(t, "PutTOTP replace", s.PutTOTP(ctx, confirmed), nil)
	got, _ = s.GetTOTP(ctx, "u1")
	durEqual(t, "GetTOTP replaced", got, confirmed)

	durIs(t, "DeleteTOTP", s.DeleteTOTP(ctx, "u1"), nil)
	_, err = s.GetTOTP(ctx, "u1")
	durIs(t, "GetTOTP deleted", err, store.ErrNotFound)
	durIs(t, "DeleteTOTP again", s.DeleteTOTP(ctx, "u1"), store.ErrNotFound)
	durIs(t, "PutTOTP missing user", s.PutTOTP(ctx, store.TOTPCredential{UserID: "ghost", Sealed: []byte{1}}),
		store.ErrNotFound)
}

func durRecoveryCodes(t *testing.T, open DurableOpener) {
	s, clk := durOpen(t, open)
	ctx := context.Background()
	now := clk.Now()
	durSeedUsers(t, s, now, 2)

	durIs(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, "u1", []string{"h3", "h1", "h2"}), nil)
	durIs(t, "ReplaceRecoveryCodes u2", s.ReplaceRecoveryCodes(ctx, "u2", []string{"h1"}), nil)
	codes, err := s.ListRecoveryCodes(ctx, "u1")
	durIs(t, "ListRecoveryCodes", err, nil)
	durEqual(t, "ListRecoveryCodes", codes, []store.RecoveryCode{
		{UserID: "u1", Hash: "h1"}, {UserID: "u1", Hash: "h2"}, {UserID: "u1", Hash: "h3"}})

	at := now.Add(time.Minute)
	durIs(t, "UseRecoveryCode", s.UseRecoveryCode(ctx, "u1", "h2", at), nil)
	durIs(t, "UseRecoveryCode again", s.UseRecoveryCode(ctx, "u1", "h2", at), store.ErrAlreadyUsed)
	durIs(t, "UseRecoveryCode unknown", s.UseRecoveryCode(ctx, "u1", "nope", at), store.ErrNotFound)
	durIs(t, "UseRecoveryCode other user's", s.UseRecoveryCode(ctx, "u1", "h9", at), store.ErrNotFound)
	codes, _ = s.ListRecoveryCodes(ctx, "u1")
	durEqual(t, "after use", codes, []store.RecoveryCode{
		{UserID: "u1", Hash: "h1"}, {UserID: "u1", Hash: "h2", UsedAt: at}, {UserID: "u1", Hash: "h3"}})
	// u2's h1 is another code.
	durIs(t, "UseRecoveryCode u2", s.UseRecoveryCode(ctx, "u2", "h1", at), nil)
	durIs(t, "UseRecoveryCode u1 h1", s.UseRecoveryCode(ctx, "u1", "h1", at), nil)

	// Replacing drops every old code, used or not.
	durIs(t, "ReplaceRecoveryCodes again", s.ReplaceRecoveryCodes(ctx, "u1", []string{"h2", "h4"}), nil)
	codes, _ = s.ListRecoveryCodes(ctx, "u1")
	durEqual(t, "after replace", codes, []store.RecoveryCode{{UserID: "u1", Hash: "h2"}, {UserID: "u1", Hash: "h4"}})
	durIs(t, "UseRecoveryCode dropped", s.UseRecoveryCode(ctx, "u1", "h3", at), store.ErrNotFound)
	durIs(t, "UseRecoveryCode renewed", s.UseRecoveryCode(ctx, "u1", "h2", at), nil)

	// A repeated hash fails the whole replacement.
	durIs(t, "ReplaceRecoveryCodes repeated", s.ReplaceRecoveryCodes(ctx, "u1", []string{"h5", "h5"}),
		store.ErrAlreadyExists)
	codes, _ = s.ListRecoveryCodes(ctx, "u1")
	durEqual(t, "after failed replace", len(codes), 2)
	durIs(t, "ReplaceRecoveryCodes to none", s.ReplaceRecoveryCodes(ctx, "u1", nil), nil)
	codes, _ = s.ListRecoveryCodes(ctx, "u1")
	durEqual(t, "no codes", len(codes), 0)
	durIs(t, "ReplaceRecoveryCodes missing user", s.ReplaceRecoveryCodes(ctx, "ghost", []string{"h"}),
		store.ErrNotFound)
}
