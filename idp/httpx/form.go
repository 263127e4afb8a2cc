package httpx

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxBody is the largest request body hubid reads, form or JSON (64 KiB):
// every form and JSON document it accepts is a few hundred bytes.
const MaxBody = 64 << 10

// FormContentType is the only body type the forms and OAuth endpoints
// accept.
const FormContentType = "application/x-www-form-urlencoded"

// Why a request body or query was refused.
var (
	ErrTooLarge    = fmt.Errorf("the request body is larger than %d KiB", MaxBody>>10)
	ErrContentType = errors.New("the request body must be " + FormContentType)
	ErrMalformed   = errors.New("the request parameters are malformed")
	ErrBadText     = errors.New("a request parameter is not valid UTF-8 text or contains a NUL character")
)

// FormError says why a request's parameters were refused; Status is the
// HTTP status to answer (413 for ErrTooLarge, else 400).
type FormError struct {
	Err   error  // one of the errors above
	Param string // the offending parameter, when one is known
}

func (e *FormError) Error() string {
	if e.Param != "" {
		return e.Err.Error() + ": " + e.Param
	}
	return e.Err.Error()
}

func (e *FormError) Unwrap() error { return e.Err }

// Status is the HTTP status for the refusal.
func (e *FormError) Status() int {
	if errors.Is(e.Err, ErrTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// LimitBody caps r's body at MaxBody bytes; reading past it fails with
// *http.MaxBytesError (see TooLarge).
func LimitBody(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	}
}

// TooLarge reports whether err comes from reading past LimitBody's cap.
func TooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// ReadBody reads r's whole body, at most MaxBody bytes.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, &FormError{Err: ErrTooLarge}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	LimitBody(w, r)
	b, err := io.ReadAll(r.Body)
	if TooLarge(err) {
		return nil, &FormError{Err: ErrTooLarge}
	}
	if err != nil {
		return nil, &FormError{Err: ErrMalformed}
	}
	return b, nil
}

// ParseParams parses an application/x-www-form-urlencoded string strictly:
// a malformed pair fails (url.ParseQuery would drop it and go on), every
// name and value must be valid UTF-8 without NUL.
func ParseParams(raw string) (url.Values, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &FormError{Err: ErrMalformed}
	}
	for k, vs := range v {
		if !CleanText(k) {
			return nil, &FormError{Err: ErrBadText}
		}
		for _, s := range vs {
			if !CleanText(s) {
				return nil, &FormError{Err: ErrBadText, Param: k}
			}
		}
	}
	return v, nil
}

// CleanText reports whether s is valid UTF-8 without NUL: what any
// identifier, hint or free text a client sends must be before it is
// stored or looked up (PostgreSQL refuses both in text columns).
func CleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Repeated returns a parameter of v that has more than one value ("" when
// none does).
func Repeated(v url.Values) string {
	for k, vs := range v {
		if len(vs) > 1 {
			return k
		}
	}
	return ""
}

// IsForm reports whether the Content-Type header names a url-encoded form
// (parameters such as charset are allowed).
func IsForm(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == FormContentType
}

// ReadForm reads a url-encoded request body strictly (size, type, syntax,
// text) and returns it; the query string is not read.
func ReadForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if !IsForm(r.Header) {
		return nil, &FormError{Err: ErrContentType}
	}
	b, err := ReadBody(w, r)
	if err != nil {
		return nil, err
	}
	return ParseParams(string(b))
}

// Forms guards page handlers: the query of every request and the body of
// every POST are parsed here, strictly (a url-encoded form of at most
// MaxBody bytes, valid UTF-8 without NUL everywhere), and stored in
// r.Form and r.PostForm, so the handlers' FormValue calls read checked
// values and never an unbounded body. A refused request goes to fail.
func Forms(next http.Handler, fail func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query, err := ParseParams(r.URL.RawQuery)
		if err != nil {
			fail(w, r, AsFormError(err))
			return
		}
		post := url.Values{}
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			hasBody := r.ContentLength != 0 || r.Header.Get("Content-Type") != ""
			if hasBody {
				if post, err = ReadForm(w, r); err != nil {
					fail(w, r, AsFormError(err))
					return
				}
			}
		}
		all := url.Values{}
		for k, vs := range post {
			all[k] = append(all[k], vs...)
		}
		for k, vs := range query {
			all[k] = append(all[k], vs...)
		}
		r.PostForm, r.Form = post, all
		r.Body = http.NoBody
		next.ServeHTTP(w, r)
	})
}

// AsFormError returns err as a *FormError (a malformed request when it
// is another error).
func AsFormError(err error) *FormError {
	var fe *FormError
	if errors.As(err, &fe) {
		return fe
	}
	return &FormError{Err: ErrMalformed}
}
