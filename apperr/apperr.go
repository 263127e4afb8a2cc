// Package apperr is hubid's one application error type. An *Error carries
// a Code (what went wrong, from the caller's point of view), a message safe
// to show to the client, and the wrapped internal cause, which is logged
// and never sent. HTTP statuses and OAuth error codes are derived from the
// Code here and nowhere else.
package apperr

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/customerhub/hubid/store"
)

// Code classifies an error.
type Code string

// Error codes.
const (
	Invalid      Code = "invalid"      // bad input: 400 / invalid_request
	Unauthorized Code = "unauthorized" // bad credentials: 401 / invalid_client or access_denied
	Forbidden    Code = "forbidden"    // not allowed: 403 / access_denied
	NotFound     Code = "not_found"    // 404
	Conflict     Code = "conflict"     // 409
	RateLimited  Code = "rate_limited" // 429
	Unavailable  Code = "unavailable"  // a backend is down: 503 / temporarily_unavailable
	Internal     Code = "internal"     // a bug or unknown failure: 500 / server_error

	// Organizations (package orgs): each refusal a page or an API client
	// tells apart.
	LastAdministrator      Code = "last_administrator"       // the organization would lose its last administrator: 409
	InvitationInvalid      Code = "invitation_invalid"       // no such invitation link (tampered, or replaced by a resend): 404
	InvitationExpired      Code = "invitation_expired"       // 410
	InvitationUsed         Code = "invitation_used"          // accepted already: 410
	InvitationCancelled    Code = "invitation_cancelled"     // 410
	InvitationWrongAccount Code = "invitation_wrong_account" // opened while signed in as another account: 403
)

// Error is an application error.
type Error struct {
	Code    Code
	Message string // safe for the client
	Err     error  // internal cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a client-safe message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Wrap returns an error with a code, a client-safe message and a cause.
func Wrap(code Code, msg string, err error) *Error { return &Error{Code: code, Message: msg, Err: err} }

// CodeOf classifies any error: an *Error's own code, store sentinels
// mapped to their meaning, context cancellation as unavailable, else
// Internal.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return NotFound
	case errors.Is(err, store.ErrAlreadyExists):
		return Conflict
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return Unavailable
	}
	return Internal
}

// IsUnavailable reports whether a backend failure is anywhere in err's
// chain: store.ErrUnavailable, a context deadline, or an *Error coded
// Unavailable, even beneath an *Error with another code. A caller that
// wrapped a storage failure as "expired" or "invalid" must still answer
// "temporarily unavailable": the failure is not the person's.
func IsUnavailable(err error) bool {
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return false
		}
		if e.Code == Unavailable {
			return true
		}
		err = e.Err
	}
	return false
}

// MessageOf returns the client-safe message of err.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	switch CodeOf(err) {
	case NotFound:
		return "not found"
	case Conflict:
		return "already exists"
	case Unavailable:
		return "the service is temporarily unavailable; please try again shortly"
	}
	return "internal error"
}

// HTTPStatus maps a code to its HTTP status.
func HTTPStatus(c Code) int {
	switch c {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict, LastAdministrator:
		return http.StatusConflict
	case InvitationInvalid:
		return http.StatusNotFound
	case InvitationExpired, InvitationUsed, InvitationCancelled:
		return http.StatusGone
	case InvitationWrongAccount:
		return http.StatusForbidden
	case RateLimited:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// OAuthError maps a code to the OAuth 2.0 error code.
func OAuthError(c Code) string {
	switch c {
	case Invalid:
		return "invalid_request"
	case Unauthorized:
		return "invalid_client"
	case Forbidden, InvitationWrongAccount:
		return "access_denied"
	case NotFound:
		return "invalid_request"
	case Conflict:
		return "invalid_request"
	case RateLimited:
		return "temporarily_unavailable"
	case Unavailable:
		return "temporarily_unavailable"
	}
	return "server_error"
}
