// Package mail composes and sends hubid's transactional mail: password
// reset, email verification and security notices, in English and
// Japanese.
//
// A Composer renders a kind of mail from embedded templates whose strings
// all come from the Messages table. The caller then calls Enqueue inside
// the same store.Durable.InTx as the change the mail describes, so the
// change and its mail commit together; NewWorker returns an outbox worker
// that delivers queued mail through a Sender: SMTPSender in production,
// DirSender under `hubid dev` (read with DevMailbox).
package mail

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/customerhub/hubid/idp/outbox"
	"github.com/customerhub/hubid/store"
)

// OutboxKind is the outbox message kind of a mail.
const OutboxKind = "mail"

// Message is one mail to one recipient.
type Message struct {
	To      string `json:"to"` // one address, optionally with a display name
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"` // "" = text only
	// ID is the Message-ID's left part. The worker sets it from the
	// outbox message, so a retry carries the same Message-ID; "" = random.
	ID string `json:"id,omitempty"`
}

// Sender delivers a message. An error wrapping outbox.ErrPermanent means
// retrying cannot help (the recipient does not exist); other errors are
// retried.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox is where Enqueue writes; a transaction's store.Durable satisfies
// it.
type Outbox interface {
	EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (int64, error)
}

// validate checks what every sender needs.
func (m Message) validate() error {
	if _, err := parseAddress(m.To); err != nil {
		return err
	}
	if strings.TrimSpace(m.Subject) == "" {
		return errors.New("no subject")
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("no text body")
	}
	return nil
}

// parseAddress parses exactly one address.
func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("address %q has a line break", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", s, err)
	}
	return a, nil
}

// Enqueue queues m for delivery, due at once; the store stamps the time.
// Call it inside store.Durable.InTx with the change the mail describes.
func Enqueue(ctx context.Context, out Outbox, m Message) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("mail: encode: %w", err)
	}
	if _, err := out.EnqueueOutbox(ctx, store.OutboxMessage{Kind: OutboxKind, Payload: body}); err != nil {
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	return nil
}

// Worker defaults that differ from the outbox package's: SMTP sessions are
// slower than HTTP calls, relays limit parallel connections, and mail is
// worth retrying through a relay outage of a few hours.
const (
	defaultTimeout     = 30 * time.Second
	defaultConcurrency = 4
	defaultMaxAttempts = 12 // about 5 h with the default backoff
)

// NewWorker returns the outbox worker that delivers queued mail through
// sender. Zero fields of cfg take these defaults: Timeout 30 s,
// Concurrency 4, MaxAttempts 12, Backoff outbox.ExponentialBackoff(30 s,
// 1 h, Rand), and logs name the recipient's domain only.
func NewWorker(st outbox.Store, sender Sender, cfg outbox.Config) (*outbox.Worker, error) {
	if sender == nil {
		return nil, errors.New("mail: no sender")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = defaultConcurrency
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = defaultMaxAttempts
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Backoff == nil {
		cfg.Backoff = outbox.ExponentialBackoff(30*time.Second, time.Hour, cfg.Rand)
	}
	if cfg.Attrs == nil {
		cfg.Attrs = recipientDomain
	}
	h := func(ctx context.Context, om store.OutboxMessage) error {
		m, err := decode(om)
		if err != nil {
			return err
		}
		return sender.Send(ctx, m)
	}
	return outbox.NewWorker(st, OutboxKind, h, cfg)
}

// decode reads a queued message; a bad one is a permanent failure.
func decode(om store.OutboxMessage) (Message, error) {
	var m Message
	if err := json.Unmarshal(om.Payload, &m); err != nil {
		return Message{}, outbox.Permanent(fmt.Errorf("mail: bad payload: %w", err))
	}
	if err := m.validate(); err != nil {
		return Message{}, outbox.Permanent(fmt.Errorf("mail: bad message: %w", err))
	}
	if m.ID == "" {
		m.ID = fmt.Sprintf("hubid.%d.%d", om.ID, om.CreatedAt.UnixMicro())
	}
	return m, nil
}

// recipientDomain logs where a mail goes without the whole address.
func recipientDomain(om store.OutboxMessage) []slog.Attr {
	var m struct{ To string }
	if json.Unmarshal(om.Payload, &m) != nil {
		return nil
	}
	a, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	return []slog.Attr{slog.String("to_domain", domain)}
}
