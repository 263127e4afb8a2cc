// Package store owns hubid's records, the sentinel errors every backend
// returns, and the storage interfaces. It has two kinds of state:
//
//   - durable state (users, organizations, clients, keys, audit, outbox...),
//     kept in PostgreSQL in production and SQLite in `hubid dev`;
//   - ephemeral state (browser sessions, auth requests, codes, refresh
//     tokens, counters...), kept in Redis in production and in process
//     memory in `hubid dev`.
//
// Every backend runs the same conformance suite in store/storetest.
// Consumers should not depend on the composite interfaces: they declare the
// few methods they use, which the backends satisfy.
package store

import (
	"errors"
	"strings"

	"golang.org/x/text/cases"
)

// Sentinel errors. Backends wrap them with %w; callers test with errors.Is.
var (
	// ErrNotFound: no record with that key (or it has expired).
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: a record with that key (or unique field) exists.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrAlreadyUsed: a single-use record (code, one-time token, TOTP step,
	// rotated refresh token) was used before.
	ErrAlreadyUsed = errors.New("store: already used")
	// ErrRevoked: the record (refresh token family) has been revoked.
	ErrRevoked = errors.New("store: revoked")
	// ErrUnavailable: the backend cannot be reached; callers map it to 503 /
	// temporarily_unavailable.
	ErrUnavailable = errors.New("store: backend unavailable")
	// ErrLastAdministrator: the change would leave an organization without
	// an administrator.
	ErrLastAdministrator = errors.New("store: the organization's last administrator")
)

// FoldEmail returns the comparison form of an email address: Unicode case
// folded and trimmed. Emails are stored as given and compared folded.
func FoldEmail(email string) string {
	// A Caser is stateful and not safe for concurrent use: make one per call.
	return cases.Fold().String(strings.TrimSpace(email))
}
