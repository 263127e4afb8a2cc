package backchannel

import (
	"context"
	"crypto/rand"
	"encoding/binary"
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
	"unicode/utf8"

	"github.com/customerhub/hubid/store"
)

// BatchSize is how many messages one RunOnce claims at most.
const BatchSize = 20

// maxBody bounds how much of an RP's response is read.
const maxBody = 4 << 10

// markTimeout bounds recording a message's outcome.
const markTimeout = 5 * time.Second

// Store is the outbox the worker drains.
type Store interface {
	ClaimOutbox(ctx context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error)
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	MarkOutboxFailed(ctx context.Context, id int64, errText string, next time.Time) error
}

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

// Worker delivers queued back-channel logouts.
type Worker struct {
	cfg     Config
	store   Store
	keys    KeySource
	client  *http.Client
	timeout time.Duration
}

// NewWorker returns a worker draining st and signing with keys.
func NewWorker(st Store, keys KeySource, cfg Config) (*Worker, error) {
	var problems []error
	if st == nil {
		problems = append(problems, errors.New("no store"))
	}
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
	if cfg.Lease <= client.Timeout {
		problems = append(problems, fmt.Errorf("lease %v must exceed the HTTP timeout %v", cfg.Lease, client.Timeout))
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.MaxAttempts < 1 {
		problems = append(problems, fmt.Errorf("max attempts %d < 1", cfg.MaxAttempts))
	}
	if cfg.Backoff == nil {
		cfg.Backoff = ExponentialBackoff(5*time.Second, time.Hour, cfg.Rand)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("backchannel: %w", errors.Join(problems...))
	}
	return &Worker{cfg: cfg, store: st, keys: keys, client: client, timeout: client.Timeout}, nil
}

// ExponentialBackoff returns base·2^(attempt−1) capped at max, less a
// random jitter of up to a fifth read from rnd (none if rnd fails), so
// retries of many messages spread out and never exceed the cap.
func ExponentialBackoff(base, max time.Duration, rnd io.Reader) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		d = min(d, max)
		var b [8]byte
		if span := uint64(d / 5); span > 0 {
			if _, err := io.ReadFull(rnd, b[:]); err == nil {
				d -= time.Duration(binary.BigEndian.Uint64(b[:]) % span)
			}
		}
		return d
	}
}

// Run calls RunOnce at every tick until ctx ends or tick is closed;
// errors are logged.
func (w *Worker) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-tick:
			if !ok {
				return
			}
			if _, _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
				w.cfg.Logger.LogAttrs(ctx, slog.LevelError, "backchannel logout run", slog.Any("err", err))
			}
		}
	}
}

// RunOnce claims up to BatchSize due messages and delivers them in
// parallel. sent counts deliveries the RPs accepted; failed counts the
// others (rescheduled or given up). err reports a store or key failure; a
// message whose outcome could not be recorded is retried when its lease
// ends, and if no signing key is available the claimed messages are left
// to their leases without using an attempt.
func (w *Worker) RunOnce(ctx context.Context) (sent, failed int, err error) {
	msgs, err := w.store.ClaimOutbox(ctx, Kind, w.cfg.Now(), w.cfg.Lease, BatchSize)
	if err != nil {
		return 0, 0, fmt.Errorf("backchannel: claim: %w", err)
	}
	if len(msgs) == 0 {
		return 0, 0, nil
	}
	key, err := w.keys.Signing()
	if err != nil {
		return 0, 0, fmt.Errorf("backchannel: signing key: %w", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, m := range msgs {
		wg.Go(func() {
			ok, done, err := w.handle(ctx, key, m)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case !done:
			case ok:
				sent++
			default:
				failed++
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return sent, failed, errors.Join(errs...)
}

// handle delivers one claimed message and records the outcome. done is
// false when the attempt does not count: the lease was too short to start
// it, or ctx ended.
func (w *Worker) handle(ctx context.Context, key SigningKey, m store.OutboxMessage) (ok, done bool, err error) {
	log := w.cfg.Logger.With(slog.Int64("outbox_id", m.ID))
	// The outcome is recorded even when ctx ends meanwhile (shutdown), so
	// a delivered message is not delivered again.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	var p Payload
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.URI == "" || p.ClientID == "" {
		// Retrying cannot fix a bad payload.
		log.LogAttrs(ctx, slog.LevelError, "backchannel logout: bad payload; given up", slog.Any("err", err))
		if err := w.store.MarkOutboxFailed(mctx, m.ID, "bad payload", time.Time{}); err != nil {
			return false, true, fmt.Errorf("backchannel: mark %d failed: %w", m.ID, err)
		}
		return false, true, nil
	}
	log = log.With(slog.String("client_id", p.ClientID))
	now := w.cfg.Now()
	if !m.LeaseUntil.IsZero() && !now.Add(w.timeout).Before(m.LeaseUntil) {
		// Another worker may claim it before we could record the outcome.
		log.LogAttrs(ctx, slog.LevelWarn, "backchannel logout: lease too short; left for later")
		return false, false, nil
	}
	derr := w.deliver(ctx, key, p, now)
	if derr == nil {
		if err := w.store.MarkOutboxSent(mctx, m.ID, w.cfg.Now()); err != nil {
			return true, true, fmt.Errorf("backchannel: mark %d sent: %w", m.ID, err)
		}
		log.LogAttrs(ctx, slog.LevelDebug, "backchannel logout delivered", slog.Int("attempts", m.Attempts+1))
		return true, true, nil
	}
	if ctx.Err() != nil {
		// Interrupted by us, not refused by the RP: no attempt is used;
		// the message is due again when its lease ends.
		return false, false, nil
	}
	attempts := m.Attempts + 1
	var next time.Time
	if attempts < w.cfg.MaxAttempts {
		next = w.cfg.Now().Add(w.cfg.Backoff(attempts))
		log.LogAttrs(ctx, slog.LevelInfo, "backchannel logout failed; will retry",
			slog.Int("attempts", attempts), slog.Time("next", next), slog.Any("err", derr))
	} else {
		log.LogAttrs(ctx, slog.LevelWarn, "backchannel logout failed; given up",
			slog.Int("attempts", attempts), slog.Any("err", derr))
	}
	if err := w.store.MarkOutboxFailed(mctx, m.ID, truncate(derr.Error(), 512), next); err != nil {
		return false, true, fmt.Errorf("backchannel: mark %d failed: %w", m.ID, err)
	}
	return false, true, nil
}

// deliver signs a logout token and POSTs it to the RP; nil means the RP
// answered 200 or 204.
func (w *Worker) deliver(ctx context.Context, key SigningKey, p Payload, now time.Time) error {
	token, err := signToken(key, w.cfg.Issuer, p, now, w.cfg.Rand)
	if err != nil {
		return err
	}
	form := url.Values{"logout_token": {token}}.Encode()
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URI, strings.NewReader(form))
	if err != nil {
		return fmt.Errorf("request: %w", err)
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
		msg += " (redirect to " + truncate(loc, 200) + " not followed)"
	}
	if rerr == nil && len(body) > 0 {
		msg += ": " + truncate(strings.TrimSpace(string(body)), 200)
	}
	return errors.New(msg)
}

// truncate shortens s to at most n bytes of valid UTF-8.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// lockedReader serializes reads of a reader shared by parallel deliveries.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
