package backchannel

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	// Aliased: the tests have a helper named outbox.
	ob "github.com/customerhub/hubid/idp/outbox"
	"github.com/customerhub/hubid/store"
)

// BatchSize is how many messages one RunOnce claims at most.
const BatchSize = 20

// maxBody bounds how much of an RP's response is read.
const maxBody = 4 << 10

// Store is the outbox the worker drains.
type Store = ob.Store

// Config configures a Worker. Zero fields take the defaults noted.
type Config struct {
	Issuer string // required: the tokens' iss
	Now    func() time.Time
	Rand   io.Reader // jti and backoff jitter (crypto/rand)
	// HTTPClient sends the POSTs (a client with a 5 s timeout). It is
	// copied and never follows redirects; a zero Timeout becomes 5 s.
	HTTPClient  *http.Client
	Lease       time.Duration // how long a claim holds (30 s); must exceed the HTTP timeout
	MaxAttempts int           // deliveries before giving up (8)
	// Backoff is the delay after the attempt-th failed delivery (1 for the
	// first): ExponentialBackoff(5 s, 1 h, Rand).
	Backoff func(attempt int) time.Duration
	Logger  *slog.Logger // discard
}

// Worker delivers queued back-channel logouts: an outbox.Worker for Kind
// whose handler signs and POSTs the logout token.
type Worker struct {
	cfg    Config
	keys   KeySource
	client *http.Client
	ow     *ob.Worker
}

// NewWorker returns a worker draining st and signing with keys.
func NewWorker(st Store, keys KeySource, cfg Config) (*Worker, error) {
	var problems []error
	if keys == nil {
		problems = append(problems, errors.New("no key source"))
	}
	if cfg.Issuer == "" {
		problems = append(problems, errors.New("no issuer"))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	cfg.Rand = &lockedReader{r: cfg.Rand} // deliveries run in parallel
	client := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	if client.Timeout <= 0 {
		client.Timeout = 5 * time.Second
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if cfg.Lease == 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = ExponentialBackoff(5*time.Second, time.Hour, cfg.Rand)
	}
	w := &Worker{cfg: cfg, keys: keys, client: client}
	ow, err := ob.NewWorker(st, Kind, w.handle, ob.Config{
		Now: cfg.Now, Rand: cfg.Rand, Timeout: client.Timeout, BatchSize: BatchSize,
		Lease: cfg.Lease, MaxAttempts: cfg.MaxAttempts, Backoff: cfg.Backoff, Logger: cfg.Logger,
		Attrs: clientAttr,
	})
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("backchannel: %w", errors.Join(problems...))
	}
	w.ow = ow
	return w, nil
}

// ExponentialBackoff is outbox.ExponentialBackoff: base·2^(attempt−1)
// capped at max, less up to a fifth of random jitter read from rnd.
func ExponentialBackoff(base, max time.Duration, rnd io.Reader) func(attempt int) time.Duration {
	return ob.ExponentialBackoff(base, max, rnd)
}

// Run calls RunOnce at every tick until ctx ends or tick is closed;
// errors are logged.
func (w *Worker) Run(ctx context.Context, tick <-chan time.Time) { w.ow.Run(ctx, tick) }

// RunOnce claims up to BatchSize due messages and delivers them in
// parallel. sent counts deliveries the RPs accepted; failed counts the
// others (rescheduled or given up). err reports a store or key failure; a
// message whose outcome could not be recorded is retried when its lease
// ends, and if no signing key is available the claimed messages are left
// to their leases without using an attempt.
func (w *Worker) RunOnce(ctx context.Context) (sent, failed int, err error) {
	return w.ow.RunOnce(ctx)
}

// clientAttr logs a message's client ID.
func clientAttr(m store.OutboxMessage) []slog.Attr {
	var p Payload
	if json.Unmarshal(m.Payload, &p) != nil || p.ClientID == "" {
		return nil
	}
	return []slog.Attr{slog.String("client_id", p.ClientID)}
}

// handle is the outbox handler: it signs a logout token with the key
// active now and POSTs it to the RP.
func (w *Worker) handle(ctx context.Context, m store.OutboxMessage) error {
	var p Payload
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.URI == "" || p.ClientID == "" {
		// Retrying cannot fix a bad payload.
		return ob.Permanent(errors.New("bad payload"))
	}
	key, err := w.keys.Signing()
	if err != nil {
		return ob.NotAttempted(fmt.Errorf("backchannel: signing key: %w", err))
	}
	return w.deliver(ctx, key, p, w.cfg.Now())
}

// deliver signs a logout token and POSTs it to the RP; nil means the RP
// answered 200 or 204.
func (w *Worker) deliver(ctx context.Context, key SigningKey, p Payload, now time.Time) error {
	token, err := signToken(key, w.cfg.Issuer, p, now, w.cfg.Rand)
	if err != nil {
		return err
	}
	form := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URI, strings.NewReader(form))
	if err != nil {
		return ob.Permanent(fmt.Errorf("request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "hubid-backchannel-logout")
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return nil
	}
	msg := fmt.Sprintf("status %d", resp.StatusCode)
	if loc := resp.Header.Get("Location"); loc != "" {
		msg += " (redirect to " + ob.Truncate(loc, 200) + " not followed)"
	}
	if rerr == nil && len(body) > 0 {
		msg += ": " + ob.Truncate(strings.TrimSpace(string(body)), 200)
	}
	return errors.New(msg)
}

// lockedReader serializes reads of the reader that parallel deliveries
// share for jti.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
