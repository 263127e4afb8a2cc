package recovery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/idp/hub"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/idp/pwpolicy"
	"github.com/customerhub/hubid/idp/session"
	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/idp/web"
	"github.com/customerhub/hubid/store"
)

// Link lifetimes.
const (
	ResetTTL  = 30 * time.Minute
	VerifyTTL = 24 * time.Hour
)

// Audit event kinds written by this package.
const (
	AuditResetRequested   = "password.reset.requested"
	AuditReset            = "password.reset"
	AuditMFACleared       = "mfa.cleared"
	AuditSessionsEnded    = "sessions.ended"
	AuditVerificationSent = "email.verification.sent"
	AuditEmailVerified    = "email.verified"
	AuditEmailChanged     = "email.changed"
)

const (
	tokenBytes = 32
	// forgotTimeout bounds one background /forgot job.
	forgotTimeout = 30 * time.Second
	// maxPending bounds the /forgot jobs running at once.
	maxPending = 64
	// maxEmailBytes is the longest address accepted (RFC 5321 path).
	maxEmailBytes = 254
	// maxUserAgent bounds the user agent kept in audit events.
	maxUserAgent = 256
)

// Throttling of mail-sending requests. Counts are of mails actually asked
// for, within the window; an address gets at most LockAfter links an hour.
var (
	addressPolicy = throttle.Policy{DelayAfter: 3, LockAfter: 5, Window: time.Hour, MaxDelay: 10 * time.Minute}
	ipPolicy      = throttle.Policy{DelayAfter: 20, LockAfter: 60, Window: time.Hour, MaxDelay: 10 * time.Minute}
)

// Tx is what the package reads and writes inside a transaction;
// store.Durable satisfies it.
type Tx interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error)
	CreateOneTimeToken(ctx context.Context, t store.OneTimeToken) error
	ConsumeOneTimeToken(ctx context.Context, hash string, kind store.OneTimeTokenKind, at time.Time) (store.OneTimeToken, error)
	DeleteOneTimeTokens(ctx context.Context, userID string, kind store.OneTimeTokenKind) error
	DeleteTOTP(ctx context.Context, userID string) error
	ListRecoveryCodes(ctx context.Context, userID string) ([]store.RecoveryCode, error)
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error)
	EnqueueOutbox(ctx context.Context, m store.OutboxMessage) (int64, error)
}

// Directory is the durable storage of the package; store.Durable
// satisfies it.
type Directory interface {
	Tx
	GetUserByEmail(ctx context.Context, email string) (store.User, error)
	GetClient(ctx context.Context, id string) (store.Client, error)
	InTx(ctx context.Context, fn func(tx store.Durable) error) error
}

// Hasher hashes new passwords (password.Hasher).
type Hasher interface {
	Hash(pw string) (string, error)
}

// Composer renders mail (mail.Composer).
type Composer interface {
	Compose(kind string, lang language.Tag, to string, data any) (mail.Message, error)
}

// Deps are the package's collaborators.
type Deps struct {
	Directory Directory
	Sessions  *session.Manager
	// EndSession ends a browser session and queues its back-channel
	// logouts (the server's endSession).
	EndSession func(ctx context.Context, sessionID string) error
	// Counters hold the throttling counters (store.Ephemeral).
	Counters throttle.Counters
	Hasher   Hasher
	// Policy is applied to every new password.
	Policy   pwpolicy.Policy
	Composer Composer
	Renderer *web.Renderer
	// AuthRequests, when set, lets /forgot keep the pending sign-in it was
	// opened from (resume.go).
	AuthRequests AuthRequests
	// Guard gives the page language and the signed-in person of
	// /verify/resend.
	Guard *hub.Guard
	// Issuer is the absolute base of emailed links, without a trailing
	// slash.
	Issuer  string
	Proxies []netip.Prefix // trusted proxies, for the client IP in audit events
	Now     func() time.Time
	Rand    io.Reader
	Logger  *slog.Logger
}

// Handler serves the recovery and verification pages.
type Handler struct {
	d       Deps
	limiter *throttle.Limiter
	pending chan struct{}
	jobs    sync.WaitGroup
}

// New returns the handler. Nil Now, Rand and Logger mean time.Now,
// crypto/rand and a discarding logger.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	d.Rand = &lockedReader{r: d.Rand} // background jobs read it concurrently
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		d:       d,
		limiter: &throttle.Limiter{Counters: d.Counters, Account: addressPolicy, IP: ipPolicy, Now: d.Now},
		pending: make(chan struct{}, maxPending),
	}
}

// Mount registers the pages on mux (wrapped with web.Protect by the
// caller).
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /forgot", h.forgotPage)
	mux.HandleFunc("POST /forgot", h.postForgot)
	mux.HandleFunc("GET /forgot/sent", h.forgotSent)
	mux.HandleFunc("GET /reset", h.resetPage)
	mux.HandleFunc("POST /reset", h.postReset)
	mux.HandleFunc("GET /reset/done", h.resetDone)
	mux.HandleFunc("GET /verify", h.verify)
	mux.HandleFunc("POST /verify/resend", h.d.Guard.Require(h.resend))
	mux.HandleFunc("GET /verify/sent", h.resendSent)
}

// Wait blocks until every background job has finished.
func (h *Handler) Wait() { h.jobs.Wait() }

// newToken returns a fresh link token and the hash to store.
func (h *Handler) newToken() (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(h.d.Rand, b); err != nil {
		return "", "", fmt.Errorf("recovery: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), hashBytes(b), nil
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokenHash returns the stored hash of a token from a link; ok is false
// when it cannot be one of ours (strict decoding: a changed character
// never decodes to the same bytes).
func tokenHash(token string) (hash string, ok bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return "", false
	}
	return hashBytes(b), true
}

// errPeek rolls back the transaction that only checks a token.
var errPeek = errors.New("recovery: peek")

// peek checks that the token of hash is usable now and returns its owner,
// without using it up: the transaction consuming it is rolled back.
// Errors are store.ErrNotFound (unknown, expired, owner disabled or
// re-addressed) and store.ErrAlreadyUsed, or a storage failure.
func (h *Handler) peek(ctx context.Context, hash string, kind store.OneTimeTokenKind) (store.OneTimeToken, store.User, error) {
	var tok store.OneTimeToken
	var u store.User
	err := h.d.Directory.InTx(ctx, func(tx store.Durable) error {
		var err error
		if tok, u, err = consume(ctx, tx, hash, kind, h.d.Now()); err != nil {
			return err
		}
		return errPeek
	})
	if errors.Is(err, errPeek) {
		return tok, u, nil
	}
	return tok, u, err
}

// consume uses up a token and loads its owner. A reset link is only good
// for the address it was mailed to; a disabled owner makes any link dead.
func consume(ctx context.Context, tx Tx, hash string, kind store.OneTimeTokenKind, now time.Time) (store.OneTimeToken, store.User, error) {
	tok, err := tx.ConsumeOneTimeToken(ctx, hash, kind, now)
	if err != nil {
		return tok, store.User{}, fmt.Errorf("recovery: consume %s link: %w", kind, err)
	}
	u, err := tx.GetUser(ctx, tok.UserID)
	if err != nil {
		return tok, u, fmt.Errorf("recovery: owner of %s link: %w", kind, err)
	}
	if u.Disabled {
		return tok, u, fmt.Errorf("recovery: %s link of a disabled account: %w", kind, store.ErrNotFound)
	}
	if kind == store.TokenPasswordReset && store.FoldEmail(tok.Email) != store.FoldEmail(u.Email) {
		return tok, u, fmt.Errorf("recovery: reset link mailed to a previous address: %w", store.ErrNotFound)
	}
	return tok, u, nil
}

// meta is who asked, for audit events.
type meta struct{ ip, userAgent string }

func (h *Handler) metaOf(r *http.Request) meta {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return meta{ip: throttle.ClientIP(r, h.d.Proxies), userAgent: ua}
}

// audit appends an event to u's history; actor "" is the system (or an
// anonymous requester).
func (h *Handler) audit(ctx context.Context, a Tx, kind, actor string, u store.User, m meta, detail map[string]string) error {
	_, err := a.AppendAudit(ctx, store.AuditEvent{
		Time: h.d.Now(), Kind: kind, ActorID: actor, UserID: u.ID,
		IP: m.ip, UserAgent: m.userAgent, Detail: detail,
	})
	if err != nil {
		return fmt.Errorf("recovery: audit %s: %w", kind, err)
	}
	return nil
}

// send composes a mail and queues it in the outbox of tx.
func (h *Handler) send(ctx context.Context, tx Tx, kind string, lang language.Tag, to string, data any) error {
	m, err := h.d.Composer.Compose(kind, lang, to, data)
	if err != nil {
		return fmt.Errorf("recovery: compose %s: %w", kind, err)
	}
	if err := mail.Enqueue(ctx, tx, m); err != nil {
		return fmt.Errorf("recovery: queue %s: %w", kind, err)
	}
	return nil
}

// mailLang is the language of mail to u: the account's setting, else the
// language of the page that caused it.
func (h *Handler) mailLang(u store.User, fallback language.Tag) language.Tag {
	if u.Locale != "" {
		return h.d.Renderer.Bundle.Match(u.Locale)
	}
	return fallback
}

// linkData is what the page for an unusable link shows.
type linkData struct {
	Message   string // translated
	Again     string // where to get a new link ("" = nowhere)
	AgainKey  string
	RequestID string
}

// lockedReader serializes reads of a reader shared by concurrent jobs.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
