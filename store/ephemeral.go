package store

import (
	"context"
	"time"
)

// Every ephemeral record carries ExpiresAt: the backend keeps it until then
// (Redis: PEXPIREAT-equivalent TTL computed from the injected clock; memory:
// compared with the injected clock) and reports ErrNotFound after.

// Session is a browser SSO session.
type Session struct {
	ID          string // ≥128 random bits, base64url
	UserID      string
	AuthTime    time.Time
	AMR         []string
	Remember    bool // "automatically sign in next time"
	CreatedAt   time.Time
	LastSeen    time.Time
	AbsoluteEnd time.Time // never extended past this
	ExpiresAt   time.Time // idle expiry (slides), ≤ AbsoluteEnd
	Clients     []string  // client IDs signed into with this session
	// OrgChoices remembers, per client ID, the organization ID chosen for
	// it in this browser session (organization selection).
	OrgChoices map[string]string
	IP         string
	UserAgent  string
	// PendingTOTP is a two-step setup in progress on this session.
	PendingTOTP *PendingTOTP `json:",omitempty"`
}

// AuthRequest is a pending authorization request (between /authorize and
// the code being issued).
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              *uint
	LoginHint           string
	UILocales           []string
	ACRValues           []string
	// OrgHint is the org_hint parameter: an organization code the client
	// asks the sign-in to select.
	OrgHint   string
	CreatedAt time.Time
	ExpiresAt time.Time

	// Set when the person has authenticated.
	Done      bool
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	// OrgID is the organization selected for this sign-in ("" = none);
	// it may be set before Done (the chooser page).
	OrgID string

	// SecondStep is the half-signed-in state between the password and
	// the two-step verification page (nil otherwise). Only that page
	// reads it; it signs nobody in by itself.
	SecondStep *SecondStep `json:",omitempty"`
}

// SecondStep is a sign-in waiting for its second step: the password (or
// an SSO session, for a step-up) is proven, the TOTP code is not.
type SecondStep struct {
	UserID     string
	Remember   bool
	PasswordAt time.Time // when the first step succeeded
	ExpiresAt  time.Time // 5 minutes after the first step
	// Binding is the hash of a random value held in a browser cookie: the
	// state is usable only from the browser that passed the first step.
	Binding string
	// SessionID names the SSO session to upgrade (a step-up), "" when a
	// new session is created after the second step.
	SessionID string
	// Setup: the person has no authenticator yet and is taken (or
	// invited) through setup; PendingSecret is its sealed, unconfirmed
	// secret until PendingUntil.
	Setup         bool
	Forced        bool // setup cannot be skipped (organization policy, acr_values)
	PendingSecret []byte
	PendingUntil  time.Time
	Verified      bool // the pending secret's code was verified
}

// PendingTOTP is an authenticator being set up from account settings:
// its sealed secret, until it is confirmed or expires.
type PendingTOTP struct {
	Sealed   []byte
	Until    time.Time
	Verified bool // a code of it was verified ("Verify")
}

// AuthCode is an issued authorization code; ID is the hash of the code.
// GrantID is chosen when the code is issued: the tokens minted from the
// code carry it, so a replayed code can revoke them.
type AuthCode struct {
	ID            string
	AuthRequestID string
	ClientID      string
	GrantID       string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	ConsumedAt    time.Time // zero until redeemed
}

// RefreshToken is one refresh token of a family; ID is the token's hash.
type RefreshToken struct {
	ID              string
	FamilyID        string // the grant: all rotations of one sign-in
	UserID          string
	ClientID        string
	SessionID       string
	Scopes          []string
	Audience        []string
	AMR             []string
	AuthTime        time.Time
	OrgID           string    // the organization selected at sign-in ("" = none)
	Offline         bool      // offline_access: survives the browser session
	FamilyCreatedAt time.Time // for the absolute cap
	CreatedAt       time.Time
	ExpiresAt       time.Time
	RotatedAt       time.Time // zero while current
	ReplacedBy      string    // ID of the successor once rotated
	// AccessID is the revocation ID (RevocationStore) of the access token
	// issued together with this refresh token, "" when none;
	// AccessExpiresAt is when that access token expires. A retry within
	// the reuse grace that replaces this token revokes that access token
	// first (see RotateRefreshToken).
	AccessID        string
	AccessExpiresAt time.Time
}

// SessionStore keeps browser sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error // ErrAlreadyExists on ID clash
	GetSession(ctx context.Context, id string) (Session, error)
	// UpdateSession applies fn atomically; the TTL follows the new ExpiresAt.
	UpdateSession(ctx context.Context, id string, fn func(*Session) error) (Session, error)
	// TouchSession sets LastSeen and ExpiresAt (clamped to AbsoluteEnd,
	// the TTL following it) of the session s that GetSession returned,
	// and returns the touched session: UpdateSession with a function
	// that sets those two fields, but one write when the stored session
	// is still s (the sliding expiry of every sign-in through the
	// session). When it changed meanwhile, the change is kept and the
	// two fields set on it. ErrNotFound when the session is gone.
	TouchSession(ctx context.Context, s Session, lastSeen, expiresAt time.Time) (Session, error)
	DeleteSession(ctx context.Context, id string) error
	ListUserSessions(ctx context.Context, userID string) ([]Session, error)
}

// AuthRequestStore keeps pending authorization requests.
type AuthRequestStore interface {
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, id string, fn func(*AuthRequest) error) (AuthRequest, error)
	DeleteAuthRequest(ctx context.Context, id string) error
}

// CodeStore keeps authorization codes.
type CodeStore interface {
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// ConsumeAuthCode redeems a code exactly once. A second call returns the
	// record together with ErrAlreadyUsed (so the caller can revoke
	// c.GrantID); an unknown or expired code returns ErrNotFound.
	ConsumeAuthCode(ctx context.Context, id string) (AuthCode, error)
}

// RefreshStore keeps refresh tokens in families.
type RefreshStore interface {
	// CreateRefreshToken stores t; ErrAlreadyExists when its family holds
	// a live token with the same ID.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// GetRefreshToken returns token id of family familyID: ErrNotFound
	// when that family holds no live token id, the record with ErrRevoked
	// when the family is revoked. Callers always know the family (the
	// token value a client holds names it), so no index from token to
	// family is kept and a lookup is one round trip.
	GetRefreshToken(ctx context.Context, familyID, id string) (RefreshToken, error)
	// RotateRefreshToken atomically replaces the current token oldID of
	// family next.FamilyID (required; ErrNotFound when oldID is not a live
	// token of that family) with next and returns the old record as it
	// was before the call (RotatedAt zero on a first rotation; on a retry
	// within grace, ReplacedBy names the successor the retry replaced, so
	// the caller can invalidate what it issued). If oldID was already
	// rotated less than grace ago and its successor is unused, the successor
	// is replaced by next (a retry after a lost response) and the access
	// token issued with the successor (its AccessID) is revoked before the
	// successor is replaced, so n retries leave one live refresh token and
	// one unrevoked access token, never n; grace 0 allows
	// no retry at all, even when the caller's clock reads earlier than the
	// rotation it lost to. Otherwise reuse of
	// a rotated token revokes the whole family and returns ErrAlreadyUsed.
	// A revoked family returns ErrRevoked; an unknown token ErrNotFound.
	RotateRefreshToken(ctx context.Context, oldID string, next RefreshToken, grace time.Duration) (RefreshToken, error)
	// RevokeFamily revokes every token of a family until expiresAt.
	RevokeFamily(ctx context.Context, familyID string, expiresAt time.Time) error
	IsFamilyRevoked(ctx context.Context, familyID string) (bool, error)
}

// RevocationStore remembers revoked token IDs (jti, grant IDs) until they
// would have expired anyway.
type RevocationStore interface {
	RevokeToken(ctx context.Context, id string, expiresAt time.Time) error
	// IsTokenRevoked reports whether any of ids is revoked (one round
	// trip for all of them).
	IsTokenRevoked(ctx context.Context, ids ...string) (bool, error)
}

// CounterStore keeps rate-limit counters in fixed windows.
type CounterStore interface {
	// HitCounter adds one to key, starting a window of length window at the
	// first hit, and returns the count and when the window ends.
	HitCounter(ctx context.Context, key string, window time.Duration) (int64, time.Time, error)
	// GetCounter returns the count (0 when absent) and the window's end.
	GetCounter(ctx context.Context, key string) (int64, time.Time, error)
	ResetCounter(ctx context.Context, key string) error
}

// TOTPStepStore remembers the last TOTP time step accepted per account,
// so a code works once and no code of an earlier step works after it.
type TOTPStepStore interface {
	// UseTOTPStep makes step the last used step of userID, in one atomic
	// compare-and-set, if it is above the recorded one; ErrAlreadyUsed if
	// the recorded step is step or later. The record lives until
	// expiresAt (when no step at or below it can be accepted any more); a
	// step whose expiresAt has passed is accepted and not recorded.
	UseTOTPStep(ctx context.Context, userID string, step int64, expiresAt time.Time) error
}

// Ephemeral is everything an ephemeral backend provides.
type Ephemeral interface {
	SessionStore
	AuthRequestStore
	CodeStore
	RefreshStore
	RevocationStore
	CounterStore
	TOTPStepStore
	Ping(ctx context.Context) error
	Close() error
}
