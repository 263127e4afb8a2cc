package adminapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// decode reads the body as exactly one JSON object into v: the media type
// must be JSON, the body at most MaxBody bytes, every field known and of
// the right type, nothing after the object. Nothing is written before a
// handler's decode succeeds, so bad input changes nothing.
func (a *API) decode(r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errMediaType()
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, a.cfg.MaxBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return errTooLarge(a.cfg.MaxBody)
	}
	if err != nil {
		return errInvalid("the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errInvalid("a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errInvalid(jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errInvalid("the body must hold one JSON object and nothing after it")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := te.Field
		if field == "" {
			return "the body must be a JSON object"
		}
		return "field " + strconv.Quote(field) + ": wrong type (got JSON " + te.Value + ")"
	}
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		return "the body is not valid JSON"
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + f
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the body is not valid JSON"
	}
	return "the body is not the expected JSON object"
}

// etagOf is the strong ETag of a resource: a hash of its JSON view, so
// any visible change makes a new version.
func etagOf(view any) string {
	b, err := json.Marshal(view)
	if err != nil {
		return `"0"`
	}
	h := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(h[:12]) + `"`
}

// requireMatch checks If-Match against the current view of a resource:
// 428 when the header is missing, 412 when no listed tag is current. "*"
// matches any existing version. Call it where the write is atomic with
// the read of current (inside the store's update closure or transaction).
func requireMatch(r *http.Request, current any) error {
	return requireTag(r, etagOf(current))
}

// requireTag is requireMatch with the current ETag given.
func requireTag(r *http.Request, tag string) error {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return errPreconditionRequired()
	}
	if h == "*" {
		return nil
	}
	for t := range strings.SplitSeq(h, ",") {
		if strings.TrimSpace(t) == tag {
			return nil
		}
	}
	return errPreconditionFailed()
}

// page holds the paging parameters of a list request.
type page struct {
	limit int
	after string // the sort key of the last item of the previous page
}

const (
	defaultLimit = 50
	maxLimit     = 200
)

// pageOf reads ?limit= (1..200, default 50) and ?cursor= (opaque, from a
// previous next_cursor).
func pageOf(r *http.Request) (page, error) {
	p := page{limit: defaultLimit}
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return p, errInvalid("limit: a number from 1 to " + strconv.Itoa(maxLimit))
		}
		p.limit = n
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || !strings.HasPrefix(string(b), "k:") {
			return p, errInvalid("cursor: not a cursor this API returned")
		}
		p.after = strings.TrimPrefix(string(b), "k:")
	}
	return p, nil
}

func cursorFor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("k:" + key))
}

// List is one page of a collection.
type List[T any] struct {
	Items []T `json:"items"`
	// NextCursor fetches the next page (?cursor=); absent on the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// paginate returns the page of items after p.after: it sorts them by
// key (unique per item), ascending.
func paginate[S, T any](items []S, p page, key func(S) string, view func(S) T) List[T] {
	slices.SortFunc(items, func(x, y S) int { return strings.Compare(key(x), key(y)) })
	out := List[T]{Items: []T{}}
	last := ""
	for _, it := range items {
		k := key(it)
		if p.after != "" && k <= p.after {
			continue
		}
		if len(out.Items) == p.limit {
			out.NextCursor = cursorFor(last)
			break
		}
		out.Items = append(out.Items, view(it))
		last = k
	}
	return out
}

// checkQuery refuses a query parameter the route does not document.
func checkQuery(r *http.Request, known map[string]bool) error {
	var ps problems
	for k := range r.URL.Query() {
		if !known[k] {
			ps.add("unknown query parameter %q", k)
		}
	}
	return ps.err()
}

// noBody refuses a body on a route that takes none, rather than ignoring
// what the caller meant to say.
func noBody(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	var b [1]byte
	if n, _ := r.Body.Read(b[:]); n > 0 {
		return errInvalid("this route takes no request body")
	}
	return nil
}

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, errInvalid(name + ": true or false")
	}
	return v, nil
}

// problems collects every problem of a request, reported at once.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errInvalid(strings.Join(p, "; "))
}

// servicePage wraps a service's own page cursor in the API's: p.after is
// the service's cursor, next the one it returned.
func servicePage[T any](items []T, next string) List[T] {
	out := List[T]{Items: items}
	if out.Items == nil {
		out.Items = []T{}
	}
	if next != "" {
		out.NextCursor = cursorFor(next)
	}
	return out
}
