// Package admin serves hubid's admin API: JSON over HTTP for operators,
// mounted on the internal (metrics) listener and authenticated with one
// bearer token from the configuration (admin.token). Without a token the
// API is off and every /admin/ path answers 404.
//
//	GET  /admin/keys               the signing keys, newest first
//	POST /admin/keys/rotate        {"force": false}: 409 with the reason when the next key was published too briefly
//	POST /admin/keys/{kid}/retire  {"now": true} (required): emergency removal of a key
//
// Errors are {"error": "...", "error_description": "..."}, with the status
// and error code derived by package apperr.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/httpx"
	"github.com/customerhub/hubid/idp/keys"
	"github.com/customerhub/hubid/store"
)

// MinTokenLength is the shortest admin token accepted (characters).
const MinTokenLength = 32

// Actor names the admin API in audit events and logs (keys.WithActor).
const Actor = "admin-api"

// Keys is what the admin API needs from the signing keys (keys.Manager).
type Keys interface {
	List(ctx context.Context) ([]store.SigningKey, error)
	Rotate(ctx context.Context, force bool) ([]keys.Event, error)
	RetireNow(ctx context.Context, kid string) ([]keys.Event, error)
	Policy() keys.Policy
}

// Config configures the admin API.
type Config struct {
	// Token is the bearer token requests must present; "" turns the API
	// off. Only its SHA-256 is kept.
	Token  string
	Keys   Keys
	Logger *slog.Logger // default: discard
}

// Handler is the admin API.
type Handler struct {
	enabled bool
	token   [sha256.Size]byte
	keys    Keys
	log     *slog.Logger
	mux     *http.ServeMux
}

// New returns the admin API handler. A token shorter than MinTokenLength
// is refused.
func New(c Config) (*Handler, error) {
	if c.Token != "" && len(c.Token) < MinTokenLength {
		return nil, fmt.Errorf("admin: the token has %d characters, want at least %d (e.g. head -c 32 /dev/urandom | base64)", len(c.Token), MinTokenLength)
	}
	if c.Token != "" && c.Keys == nil {
		return nil, errors.New("admin: Keys is required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{enabled: c.Token != "", token: sha256.Sum256([]byte(c.Token)), keys: c.Keys, log: c.Logger, mux: http.NewServeMux()}
	h.mux.Handle("/admin/keys", only(http.MethodGet, h.listKeys))
	h.mux.Handle("/admin/keys/rotate", only(http.MethodPost, h.rotate))
	h.mux.Handle("/admin/keys/{kid}/retire", only(http.MethodPost, h.retire))
	h.mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, h.log, apperr.New(apperr.NotFound, "no such admin endpoint"))
	})
	return h, nil
}

// Mount registers the admin API under /admin/ on mux.
func (h *Handler) Mount(mux *http.ServeMux) { mux.Handle("/admin/", h) }

// ServeHTTP authenticates the request and routes it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !h.enabled {
		writeError(w, r, h.log, apperr.New(apperr.NotFound, "the admin API is off (admin.token is not set)"))
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hubid-admin"`)
		writeError(w, r, h.log, apperr.New(apperr.Unauthorized, "a valid admin bearer token is required"))
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(keys.WithActor(r.Context(), Actor)))
}

// authorized compares the SHA-256 of the presented bearer token with the
// configured one in constant time.
func (h *Handler) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], h.token[:]) == 1
}

// only restricts a handler to one method.
func only(method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "invalid_request", Description: "method not allowed; use " + method})
			return
		}
		h(w, r)
	})
}

// keyView is one signing key as the API shows it.
type keyView struct {
	KID         string    `json:"kid"`
	Algorithm   string    `json:"alg"`
	State       string    `json:"state"`
	CreatedAt   time.Time `json:"created_at"`
	ReadyAt     time.Time `json:"ready_at,omitzero"` // next keys: may sign from (published for publish_before)
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	RetiredAt   time.Time `json:"retired_at,omitzero"`
	RemoveAfter time.Time `json:"removal_due,omitzero"`
}

// eventView is one state change.
type eventView struct {
	KID       string    `json:"kid"`
	Algorithm string    `json:"alg"`
	From      string    `json:"from,omitempty"` // absent: created
	To        string    `json:"to,omitempty"`   // absent: removed
	Forced    bool      `json:"forced,omitempty"`
	At        time.Time `json:"at"`
}

type eventsBody struct {
	Events  []eventView `json:"events"`
	Warning string      `json:"warning,omitempty"`
}

func events(evs []keys.Event) eventsBody {
	out := eventsBody{Events: make([]eventView, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, eventView{KID: e.KID, Algorithm: e.Algorithm, From: e.From, To: e.To, Forced: e.Forced, At: e.At.UTC()})
		if e.Forced && e.To == "active" {
			out.Warning = "a next key was activated before it was published for publish_before: services that cached the key set earlier fail to verify new tokens until they refetch it"
		}
	}
	return out
}

func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := h.keys.List(r.Context())
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	p := h.keys.Policy()
	out := struct {
		Keys []keyView `json:"keys"`
	}{Keys: make([]keyView, 0, len(ks))}
	for _, k := range ks {
		v := keyView{KID: k.ID, Algorithm: k.Algorithm, State: string(k.State), CreatedAt: k.CreatedAt.UTC(),
			ActivatedAt: k.ActivatedAt.UTC(), RetiredAt: k.RetiredAt.UTC(), RemoveAfter: k.RemoveAfter.UTC()}
		if k.State == store.KeyNext {
			v.ReadyAt = k.CreatedAt.Add(p.PublishBefore).UTC()
		}
		out.Keys = append(out.Keys, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) rotate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Force bool `json:"force"`
	}
	if err := decode(w, r, &req); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	evs, err := h.keys.Rotate(r.Context(), req.Force)
	if errors.Is(err, keys.ErrTooEarly) {
		err = apperr.Wrap(apperr.Conflict, strings.TrimPrefix(err.Error(), "keys: ")+` (send {"force": true})`, err)
	}
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	h.log.InfoContext(r.Context(), "admin: signing keys rotated", slog.Bool("force", req.Force), slog.String("remote", r.RemoteAddr))
	writeJSON(w, http.StatusOK, events(evs))
}

func (h *Handler) retire(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Now bool `json:"now"`
	}
	if err := decode(w, r, &req); err != nil {
		writeError(w, r, h.log, err)
		return
	}
	if !req.Now {
		writeError(w, r, h.log, apperr.New(apperr.Invalid,
			`retiring removes the key from the key set at once and tokens it signed stop verifying; confirm with {"now": true}`))
		return
	}
	kid := r.PathValue("kid")
	evs, err := h.keys.RetireNow(r.Context(), kid)
	if errors.Is(err, store.ErrNotFound) {
		err = apperr.Wrap(apperr.NotFound, "no signing key has kid "+kid, err)
	}
	if err != nil {
		writeError(w, r, h.log, err)
		return
	}
	h.log.WarnContext(r.Context(), "admin: signing key retired now", slog.String("kid", kid), slog.String("remote", r.RemoteAddr))
	writeJSON(w, http.StatusOK, events(evs))
}

// decode reads a small JSON body (at most httpx.MaxBody bytes: a larger
// one is refused, never cut); an empty body leaves v as it is.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	httpx.LimitBody(w, r)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		_, err = io.Copy(io.Discard, r.Body) // a body past the limit is refused even after a valid object
	}
	if httpx.TooLarge(err) {
		return errTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return apperr.Wrap(apperr.Invalid, "the request body is not the expected JSON object", err)
	}
	return nil
}

var errTooLarge = apperr.New(apperr.Invalid, httpx.ErrTooLarge.Error())

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeError answers with the status and OAuth-style code of err's
// apperr.Code; internal causes are logged, never sent.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := apperr.CodeOf(err)
	status := apperr.HTTPStatus(code)
	if errors.Is(err, errTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	if status >= http.StatusInternalServerError {
		log.ErrorContext(r.Context(), "admin API", slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	writeJSON(w, status, errorBody{Error: apperr.OAuthError(code), Description: apperr.MessageOf(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var _ Keys = (*keys.Manager)(nil)
