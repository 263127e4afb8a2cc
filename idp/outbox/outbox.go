// Package outbox drains the durable outbox: a Worker claims due messages
// of one kind under a lease, hands each to a Handler in parallel, and marks
// it sent, or failed with the next attempt after a backoff, giving up after
// MaxAttempts or at once when the handler reports a permanent failure.
//
// Messages are written by the code that causes them, in the same
// transaction (store.Durable.InTx), so a change and its notification are
// committed together; the worker then delivers each at least once, and
// exactly once unless recording the outcome itself fails.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/customerhub/hubid/store"
)

// ErrPermanent marks a failure that retrying cannot fix (a bad payload, a
// recipient that does not exist): the worker gives the message up at once.
// Wrap it with Permanent or fmt.Errorf("...: %w", ErrPermanent).
var ErrPermanent = errors.New("permanent failure")

// ErrNotAttempted marks a handler that could not try for a reason of ours
// (no signing key yet): no attempt is used, the message is due again when
// its lease ends, and RunOnce reports the error.
var ErrNotAttempted = errors.New("not attempted")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds; its text
// is err's. A nil err stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, mark: ErrPermanent}
}

// NotAttempted wraps err so that errors.Is(err, ErrNotAttempted) holds;
// its text is err's. A nil err stays nil.
func NotAttempted(err error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, mark: ErrNotAttempted}
}

// marked is an error that also matches a sentinel.
type marked struct{ err, mark error }

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.mark, m.err} }

// Handler delivers one claimed message. nil means delivered; an error
// wrapping ErrPermanent gives the message up; an error wrapping
// ErrNotAttempted leaves it untouched; any other error schedules a retry.
// ctx carries the per-message timeout.
type Handler func(ctx context.Context, m store.OutboxMessage) error

// Store is the part of the outbox a worker uses; store.Durable satisfies it.
type Store interface {
	ClaimOutbox(ctx context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error)
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	MarkOutboxFailed(ctx context.Context, id int64, errText string, next time.Time) error
}

// markTimeout bounds recording a message's outcome.
const markTimeout = 5 * time.Second

// maxErrText bounds the error text stored with a failed message.
const maxErrText = 512

// Config configures a Worker. Zero fields take the defaults noted.
type Config struct {
	Now  func() time.Time // time.Now
	Rand io.Reader        // backoff jitter (crypto/rand)
	// Timeout bounds one delivery (10 s).
	Timeout time.Duration
	// BatchSize is how many messages one RunOnce claims (20).
	BatchSize int
	// Concurrency is how many deliveries run at once (BatchSize).
	Concurrency int
	// Lease is how long a claim holds; it must exceed the time the batch
	// may take, Timeout × ⌈BatchSize/Concurrency⌉ (that plus one Timeout).
	Lease       time.Duration
	MaxAttempts int // deliveries before giving up (8)
	// Backoff is the delay after the attempt-th failed delivery (1 for the
	// first): ExponentialBackoff(5 s, 1 h, Rand).
	Backoff func(attempt int) time.Duration
	Logger  *slog.Logger // discard
	// Attrs, when set, adds attributes to every log line about a message
	// (such as its recipient). It must not fail; it sees bad payloads too.
	Attrs func(m store.OutboxMessage) []slog.Attr
}

// Worker delivers the outbox messages of one kind. It is safe to run one
// per replica: the store's lease keeps two from delivering the same
// message at once.
type Worker struct {
	cfg     Config
	store   Store
	kind    string
	handler Handler
}

// NewWorker returns a worker that delivers messages of kind from st with
// h. It reports every configuration problem at once.
func NewWorker(st Store, kind string, h Handler, cfg Config) (*Worker, error) {
	var problems []error
	if st == nil {
		problems = append(problems, errors.New("no store"))
	}
	if kind == "" {
		problems = append(problems, errors.New("no message kind"))
	}
	if h == nil {
		problems = append(problems, errors.New("no handler"))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Timeout < 0 {
		problems = append(problems, fmt.Errorf("timeout %v < 0", cfg.Timeout))
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 20
	}
	if cfg.BatchSize < 1 {
		problems = append(problems, fmt.Errorf("batch size %d < 1", cfg.BatchSize))
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = max(cfg.BatchSize, 1)
	}
	if cfg.Concurrency < 1 {
		problems = append(problems, fmt.Errorf("concurrency %d < 1", cfg.Concurrency))
	}
	rounds := 1
	if cfg.BatchSize > 0 && cfg.Concurrency > 0 {
		rounds = (cfg.BatchSize + cfg.Concurrency - 1) / cfg.Concurrency
	}
	if cfg.Lease == 0 {
		cfg.Lease = cfg.Timeout * time.Duration(rounds+1)
	}
	if batch := cfg.Timeout * time.Duration(rounds); cfg.Lease <= batch {
		problems = append(problems, fmt.Errorf("lease %v must exceed the per-message timeout %v × %d rounds", cfg.Lease, cfg.Timeout, rounds))
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
		return nil, fmt.Errorf("outbox %s: %w", kind, errors.Join(problems...))
	}
	return &Worker{cfg: cfg, store: st, kind: kind, handler: h}, nil
}

// Kind is the message kind the worker delivers.
func (w *Worker) Kind() string { return w.kind }

// ExponentialBackoff returns base·2^(attempt−1) capped at max, less a
// random jitter of up to a fifth read from rnd (none if rnd fails), so
// retries of many messages spread out and never exceed the cap. The
// function is safe for concurrent use.
func ExponentialBackoff(base, max time.Duration, rnd io.Reader) func(attempt int) time.Duration {
	rnd = &lockedReader{r: rnd}
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
				w.cfg.Logger.LogAttrs(ctx, slog.LevelError, "outbox run", slog.String("kind", w.kind), slog.Any("err", err))
			}
		}
	}
}

// RunOnce claims up to BatchSize due messages and delivers them, at most
// Concurrency at a time. sent counts deliveries the handler reported done;
// failed counts the others that used an attempt (rescheduled or given up).
// Messages not attempted (lease too short to start, ctx ended, the handler
// returned ErrNotAttempted) count in neither and are due again when their
// lease ends. err reports store failures and ErrNotAttempted errors.
func (w *Worker) RunOnce(ctx context.Context) (sent, failed int, err error) {
	msgs, err := w.store.ClaimOutbox(ctx, w.kind, w.cfg.Now(), w.cfg.Lease, w.cfg.BatchSize)
	if err != nil {
		return 0, 0, fmt.Errorf("outbox %s: claim: %w", w.kind, err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, w.cfg.Concurrency)
	)
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			o, err := w.handle(ctx, m)
			mu.Lock()
			defer mu.Unlock()
			switch o {
			case outcomeSent:
				sent++
			case outcomeFailed:
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

// outcome is what became of one claimed message.
type outcome int

const (
	outcomeSkipped outcome = iota // no attempt used
	outcomeSent
	outcomeFailed
)

// handle delivers one claimed message and records the outcome.
func (w *Worker) handle(ctx context.Context, m store.OutboxMessage) (outcome, error) {
	log := w.cfg.Logger.With(slog.String("kind", w.kind), slog.Int64("outbox_id", m.ID))
	if w.cfg.Attrs != nil {
		for _, a := range w.cfg.Attrs(m) {
			log = log.With(a)
		}
	}
	if ctx.Err() != nil {
		return outcomeSkipped, nil
	}
	if !m.LeaseUntil.IsZero() && !w.cfg.Now().Add(w.cfg.Timeout).Before(m.LeaseUntil) {
		// Another worker may claim it before we could record the outcome.
		log.LogAttrs(ctx, slog.LevelWarn, "outbox: lease too short; left for later")
		return outcomeSkipped, nil
	}
	// The outcome is recorded even when ctx ends meanwhile (shutdown), so
	// a delivered message is not delivered again.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()

	hctx, hcancel := context.WithTimeout(ctx, w.cfg.Timeout)
	herr := w.handler(hctx, m)
	hcancel()
	switch {
	case herr == nil:
		if err := w.store.MarkOutboxSent(mctx, m.ID, w.cfg.Now()); err != nil {
			return outcomeSent, fmt.Errorf("outbox %s: mark %d sent: %w", w.kind, m.ID, err)
		}
		log.LogAttrs(ctx, slog.LevelDebug, "outbox: delivered", slog.Int("attempts", m.Attempts+1))
		return outcomeSent, nil
	case errors.Is(herr, ErrNotAttempted):
		return outcomeSkipped, fmt.Errorf("outbox %s: message %d: %w", w.kind, m.ID, herr)
	case ctx.Err() != nil && !errors.Is(herr, ErrPermanent):
		// Interrupted by us, not refused by the recipient: no attempt is
		// used; the message is due again when its lease ends.
		return outcomeSkipped, nil
	}
	attempts := m.Attempts + 1
	var next time.Time
	switch {
	case errors.Is(herr, ErrPermanent):
		log.LogAttrs(ctx, slog.LevelWarn, "outbox: permanent failure; given up",
			slog.Int("attempts", attempts), slog.Any("err", herr))
	case attempts < w.cfg.MaxAttempts:
		next = w.cfg.Now().Add(w.cfg.Backoff(attempts))
		log.LogAttrs(ctx, slog.LevelInfo, "outbox: delivery failed; will retry",
			slog.Int("attempts", attempts), slog.Time("next", next), slog.Any("err", herr))
	default:
		log.LogAttrs(ctx, slog.LevelWarn, "outbox: delivery failed; given up",
			slog.Int("attempts", attempts), slog.Any("err", herr))
	}
	if err := w.store.MarkOutboxFailed(mctx, m.ID, Truncate(herr.Error(), maxErrText), next); err != nil {
		return outcomeFailed, fmt.Errorf("outbox %s: mark %d failed: %w", w.kind, m.ID, err)
	}
	return outcomeFailed, nil
}
