package clients

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// Audit event kinds of client registration (ActorID names the operator).
const (
	AuditCreated       = "client.created"
	AuditUpdated       = "client.updated"
	AuditSecretRotated = "client.secret.rotated"
	AuditDeleted       = "client.deleted"
)

// Store is what registration writes; store.Durable satisfies it.
type Store interface {
	CreateClient(ctx context.Context, c store.Client) error
	UpdateClient(ctx context.Context, id string, fn func(*store.Client) error) (store.Client, error)
	DeleteClient(ctx context.Context, id string) error
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
	InTx(ctx context.Context, fn func(tx store.Durable) error) error
}

// secretBytes makes a 43-character secret, above MinSecretLength.
const secretBytes = 32

// NewSecret returns a random client secret read from r.
func NewSecret(r io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("clients: secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newID returns a random client ID.
func newID(r io.Reader) (string, error) {
	b := make([]byte, 12)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("clients: id: %w", err)
	}
	return "c-" + base64.RawURLEncoding.EncodeToString(b), nil
}

// Register creates a client from c: a random ID when c.ID is empty, and
// for a confidential client a generated secret, returned once (only its
// hash is stored). Problems with c are one apperr.Invalid listing them
// all; a taken ID is apperr.Conflict. The registration is audited with
// actor.
func Register(ctx context.Context, st Store, c store.Client, actor string, now time.Time, r io.Reader) (store.Client, string, error) {
	var err error
	if c.ID == "" {
		if c.ID, err = newID(r); err != nil {
			return store.Client{}, "", err
		}
	}
	secret := ""
	if !c.Public {
		if secret, err = NewSecret(r); err != nil {
			return store.Client{}, "", err
		}
		c.SecretHash = HashSecret(secret)
	}
	if c.AccessTokenType == "" {
		c.AccessTokenType = store.AccessTokenJWT
	}
	if err := Validate(c); err != nil {
		return store.Client{}, "", apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	c.CreatedAt, c.UpdatedAt = now, now
	err = st.InTx(ctx, func(tx store.Durable) error {
		if err := tx.CreateClient(ctx, c); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return apperr.Wrap(apperr.Conflict, "a client with this ID exists", err)
			}
			return fmt.Errorf("clients: create: %w", err)
		}
		return audit(ctx, tx, AuditCreated, actor, c.ID, now)
	})
	if err != nil {
		return store.Client{}, "", err
	}
	return c, secret, nil
}

// Update applies fn to a registered client and validates the result
// (apperr.Invalid listing every problem; nothing is written then).
func Update(ctx context.Context, st Store, id string, fn func(*store.Client) error, actor string, now time.Time) (store.Client, error) {
	var out store.Client
	err := st.InTx(ctx, func(tx store.Durable) error {
		var err error
		out, err = tx.UpdateClient(ctx, id, func(c *store.Client) error {
			if err := fn(c); err != nil {
				return err
			}
			if err := Validate(*c); err != nil {
				return apperr.Wrap(apperr.Invalid, err.Error(), err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, AuditUpdated, actor, id, now)
	})
	return out, err
}

// RotateSecret gives a confidential client a new generated secret,
// returned once; the old one stops working at once.
func RotateSecret(ctx context.Context, st Store, id, actor string, now time.Time, r io.Reader) (string, error) {
	secret, err := NewSecret(r)
	if err != nil {
		return "", err
	}
	err = st.InTx(ctx, func(tx store.Durable) error {
		_, err := tx.UpdateClient(ctx, id, func(c *store.Client) error {
			if c.Public {
				return apperr.New(apperr.Invalid, "a public client has no secret")
			}
			c.SecretHash = HashSecret(secret)
			return nil
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, AuditSecretRotated, actor, id, now)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Delete deletes a client and the consent granted to it.
func Delete(ctx context.Context, st Store, id, actor string, now time.Time) error {
	return st.InTx(ctx, func(tx store.Durable) error {
		if err := tx.DeleteClient(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, AuditDeleted, actor, id, now)
	})
}

func audit(ctx context.Context, tx store.Durable, kind, actor, clientID string, now time.Time) error {
	if _, err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, Kind: kind, ActorID: actor, ClientID: clientID}); err != nil {
		return fmt.Errorf("clients: audit: %w", err)
	}
	return nil
}
