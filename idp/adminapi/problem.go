package adminapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/customerhub/hubid/apperr"
)

// ProblemType prefixes the type URI of every problem; the last segment is
// the apperr code or one of the HTTP-only kinds below.
const ProblemType = "https://hubid.dev/problems/"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Code is the apperr code (or precondition_failed, ...), for scripts.
	Code string `json:"code"`
	// Import is the summary of a refused legacy import, with its bad
	// lines (number and reason) in Import.Lines.
	Import *ImportResult `json:"import,omitempty"`
}

// httpError is a failure that exists only at the HTTP layer (versions,
// body size, methods); everything else is an apperr error.
type httpError struct {
	status int
	code   string
	msg    string
	err    error
}

func (e *httpError) Error() string { return e.code + ": " + e.msg }
func (e *httpError) Unwrap() error { return e.err }

func errPreconditionFailed() error {
	return &httpError{http.StatusPreconditionFailed, "precondition_failed",
		"the resource changed since you read it (If-Match does not match its ETag); read it again and retry", nil}
}

func errPreconditionRequired() error {
	return &httpError{http.StatusPreconditionRequired, "precondition_required",
		"send If-Match with the ETag of the resource you read (or * to overwrite whatever is there)", nil}
}

func errTooLarge(limit int64) error {
	return &httpError{http.StatusRequestEntityTooLarge, "too_large",
		"the request body is larger than " + itoa(limit) + " bytes", nil}
}

func errUpload() error {
	return &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type",
		"send the file as Content-Type: text/csv, or as the part \"file\" of multipart/form-data", nil}
}

func errMediaType() error {
	return &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type",
		"send the body as Content-Type: application/json", nil}
}

func errMethod(m string) error {
	return &httpError{http.StatusMethodNotAllowed, "method_not_allowed", m + " is not allowed on this route (see Allow)", nil}
}

func errNotFound(msg string) error { return apperr.New(apperr.NotFound, msg) }

func errInvalid(msg string) error { return apperr.New(apperr.Invalid, msg) }

// statusOf maps an error to its HTTP status and problem code: the one
// place where the admin API turns errors into statuses.
func statusOf(err error) (int, string) {
	if he, ok := errors.AsType[*httpError](err); ok {
		return he.status, he.code
	}
	code := apperr.CodeOf(err)
	return apperr.HTTPStatus(code), string(code)
}

// problem renders err as application/problem+json. Internal causes are
// logged, never sent.
func (a *API) problem(w http.ResponseWriter, r *http.Request, err error) {
	status, code := statusOf(err)
	detail := apperr.MessageOf(err)
	if he, ok := errors.AsType[*httpError](err); ok {
		detail = he.msg
	}
	if status >= http.StatusInternalServerError {
		a.log.ErrorContext(r.Context(), "admin API", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="hubid-admin"`)
	case http.StatusForbidden:
		w.Header().Set("WWW-Authenticate", `Bearer realm="hubid-admin", error="insufficient_scope", scope="`+Scope+`"`)
	}
	p := Problem{Type: ProblemType + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
	if f, ok := errors.AsType[*importFailed](err); ok {
		p.Import = &f.result
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON renders v with status; etag, when set, becomes the ETag.
func writeJSON(w http.ResponseWriter, status int, v any, etag string) {
	w.Header().Set("Content-Type", "application/json")
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
