package apperr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/customerhub/hubid/store"
)

func TestClassification(t *testing.T) {
	secret := errors.New("pq: password authentication failed for user hubid")
	cases := []struct {
		err    error
		code   Code
		status int
		oauth  string
	}{
		{New(Invalid, "bad email"), Invalid, 400, "invalid_request"},
		{fmt.Errorf("load: %w", store.ErrNotFound), NotFound, 404, "invalid_request"},
		{fmt.Errorf("ping: %w", store.ErrUnavailable), Unavailable, 503, "temporarily_unavailable"},
		{Wrap(Unauthorized, "wrong secret", secret), Unauthorized, 401, "invalid_client"},
		{secret, Internal, http.StatusInternalServerError, "server_error"},
		{New(LastAdministrator, "x"), LastAdministrator, 409, "server_error"},
		{New(InvitationInvalid, "x"), InvitationInvalid, 404, "server_error"},
		{New(InvitationExpired, "x"), InvitationExpired, 410, "server_error"},
		{New(InvitationUsed, "x"), InvitationUsed, 410, "server_error"},
		{New(InvitationCancelled, "x"), InvitationCancelled, 410, "server_error"},
		{New(InvitationWrongAccount, "x"), InvitationWrongAccount, 403, "access_denied"},
	}
	for _, c := range cases {
		if got := CodeOf(c.err); got != c.code {
			t.Errorf("%v: code %s, want %s", c.err, got, c.code)
		}
		if got := HTTPStatus(CodeOf(c.err)); got != c.status {
			t.Errorf("%v: status %d, want %d", c.err, got, c.status)
		}
		if got := OAuthError(CodeOf(c.err)); got != c.oauth {
			t.Errorf("%v: oauth %s, want %s", c.err, got, c.oauth)
		}
	}
	if m := MessageOf(secret); m != "internal error" {
		t.Errorf("internal detail leaked: %q", m)
	}
	if m := MessageOf(Wrap(Unauthorized, "wrong secret", secret)); m != "wrong secret" {
		t.Errorf("message: %q", m)
	}
	if !errors.Is(Wrap(Internal, "x", store.ErrRevoked), store.ErrRevoked) {
		t.Error("Wrap must keep the cause for errors.Is")
	}
}

// IsUnavailable finds a backend failure anywhere in the chain, also under
// an *Error of another code, and nothing else.
func TestIsUnavailable(t *testing.T) {
	for err, want := range map[error]bool{
		store.ErrUnavailable:                                              true,
		fmt.Errorf("redis: %w", store.ErrUnavailable):                     true,
		fmt.Errorf("pg: %w", context.DeadlineExceeded):                    true,
		New(Unavailable, "down"):                                          true,
		Wrap(NotFound, "expired", store.ErrUnavailable):                   true,
		Wrap(Invalid, "x", fmt.Errorf("y: %w", New(Unavailable, "down"))): true,
		Wrap(NotFound, "expired", store.ErrNotFound):                      false,
		New(Invalid, "bad"):                                               false,
		errors.New("boom"):                                                false,
		context.Canceled:                                                  false,
		nil:                                                               false,
	} {
		if got := IsUnavailable(err); got != want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", err, got, want)
		}
	}
}
