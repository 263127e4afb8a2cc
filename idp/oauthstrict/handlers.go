package oauthstrict

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/customerhub/hubid/idp/httpx"
)

// Clients authenticates clients (idp/oidcstore).
type Clients interface {
	// AuthenticateClient checks a confidential client's secret, or that a
	// public client sent none. A refusal is an *oidc.Error invalid_client;
	// a backend failure another *oidc.Error (temporarily_unavailable,
	// server_error).
	AuthenticateClient(ctx context.Context, id, secret string) (public bool, err error)
}

// Layer is the strict layer; its methods wrap op's handlers.
type Layer struct {
	Clients Clients
	// PageError answers a refused browser request (/authorize,
	// /end_session) with an error page: never a redirect, since the
	// redirect URI itself may be what was wrong.
	PageError func(w http.ResponseWriter, r *http.Request, err error)
	// Tokens, when set, answers userinfo (for a Bearer token in the
	// Authorization header) and introspection instead of op
	// (tokeninfo.go); nil: op answers.
	Tokens TokenInfo
}

// Realm is the realm of the WWW-Authenticate challenges.
const Realm = "hubid"

// WriteError answers an OAuth error as JSON (RFC 6749 §5.2), with Allow on
// a 405 and a Basic challenge when the client used the Authorization
// header.
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if e.Status == http.StatusMethodNotAllowed {
		h.Set("Allow", http.MethodPost)
	}
	if e.Basic {
		h.Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(errorBody(e.Code, e.Description))
}

func errorBody(code, desc string) []byte {
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, desc})
	return b
}

// Token wraps op's token endpoint.
func (l *Layer) Token(next http.Handler) http.Handler { return l.endpoint(Token, next) }

// Introspect wraps op's introspection endpoint; with Tokens set, Tokens
// answers instead of next (once the client is authenticated).
func (l *Layer) Introspect(next http.Handler) http.Handler {
	if l.Tokens != nil {
		next = http.HandlerFunc(l.introspect)
	}
	return l.endpoint(Introspect, next)
}

// Revoke wraps op's revocation endpoint.
func (l *Layer) Revoke(next http.Handler) http.Handler { return l.endpoint(Revoke, next) }

// endpoint parses and authenticates, in that order and before anything
// else, then hands op a request whose form is already parsed. The client
// authentication is remembered for the request by Clients (the request
// memo of idp/oidcstore), so op's own check costs no second hash.
func (l *Layer) endpoint(kind Endpoint, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			WriteError(w, &Error{Status: http.StatusMethodNotAllowed, Code: InvalidRequest, Description: "use POST"})
			return
		}
		var body []byte
		if httpx.IsForm(r.Header) && r.URL.RawQuery == "" {
			var err error
			if body, err = httpx.ReadBody(w, r); err != nil {
				WriteError(w, &Error{Status: httpx.AsFormError(err).Status(), Code: InvalidRequest, Description: err.Error()})
				return
			}
		}
		req, perr := Parse(r.Method, r.Header, r.URL.RawQuery, body)
		if perr != nil {
			WriteError(w, perr)
			return
		}
		public, err := l.Clients.AuthenticateClient(r.Context(), req.ClientID, req.Secret)
		if err != nil {
			WriteError(w, authError(err, req.Basic))
			return
		}
		if public && kind == Introspect {
			WriteError(w, invalidClient("introspection is for confidential clients", req.Basic))
			return
		}
		if v, ok := req.Params["code_verifier"]; ok && kind == Token && !ValidVerifier(v[0]) {
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: InvalidGrant,
				Description: "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)"})
			return
		}
		r.PostForm, r.Form = req.Params, req.Params
		r.Body = http.NoBody
		next.ServeHTTP(w, r)
	})
}

// authError turns a client authentication failure into its answer.
func authError(err error, basic bool) *Error {
	var oe *oidc.Error
	if errors.As(err, &oe) {
		switch oe.ErrorType {
		case oidc.InvalidClient:
			return invalidClient(oe.Description, basic)
		case "temporarily_unavailable":
			return &Error{Status: http.StatusServiceUnavailable, Code: string(oe.ErrorType), Description: oe.Description}
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "server_error", Description: "internal error"}
}

// Browser wraps op's endpoints a browser visits (/authorize,
// /authorize/callback, /end_session): the query, and a POSTed form, are
// parsed strictly, and a repeated parameter or bad text is refused with
// an error page, never a redirect (a repeated redirect_uri must not
// choose where the error goes).
func (l *Layer) Browser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params, err := httpx.ParseParams(r.URL.RawQuery)
		if err == nil && r.Method == http.MethodPost {
			var post map[string][]string
			if post, err = httpx.ReadForm(w, r); err == nil {
				for k, v := range post {
					params[k] = append(params[k], v...)
				}
				r.PostForm = post
			}
		}
		if err == nil {
			if p := httpx.Repeated(params); p != "" {
				err = &httpx.FormError{Err: errRepeated, Param: p}
			}
		}
		if err != nil {
			l.PageError(w, r, httpx.AsFormError(err))
			return
		}
		r.Form = params
		if r.PostForm == nil {
			r.PostForm = map[string][]string{}
		}
		r.Body = http.NoBody
		next.ServeHTTP(w, r)
	})
}

var errRepeated = errors.New("a parameter is repeated")

// Userinfo wraps op's userinfo endpoint with the RFC 6750 §3 errors: a
// missing, invalid, expired or revoked token (or an ID token) is 401 with
// WWW-Authenticate: Bearer error="invalid_token"; 403 only for
// insufficient_scope. op answers a token it cannot verify with a plain
// 401 and every storage refusal with 403; the storage (idp/oidcstore)
// names the error, and this rewrites the status and challenge. With
// Tokens set, a request with a Bearer token in the Authorization header
// (the token op would take) is answered by Tokens, with the same errors.
func (l *Layer) Userinfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			bearerError(w, http.StatusMethodNotAllowed, InvalidRequest, "use GET or POST")
			return
		}
		if r.Method == http.MethodPost && (r.ContentLength != 0 || r.Header.Get("Content-Type") != "") {
			params, err := httpx.ReadForm(w, r)
			if err == nil {
				if p := httpx.Repeated(params); p != "" {
					err = &httpx.FormError{Err: errRepeated, Param: p}
				}
			}
			if err != nil {
				bearerError(w, httpx.AsFormError(err).Status(), InvalidRequest, err.Error())
				return
			}
			r.PostForm, r.Form, r.Body = params, params, http.NoBody
		}
		if l.Tokens != nil {
			if token, ok := bearer(r.Header); ok {
				l.userinfo(w, r, token)
				return
			}
		}
		buf := &buffer{header: http.Header{}}
		next.ServeHTTP(buf, r)
		answerUserinfo(w, r, buf)
	})
}

// answerUserinfo sends op's userinfo answer in buf, with its errors
// rewritten as RFC 6750 §3 requires.
func answerUserinfo(w http.ResponseWriter, r *http.Request, buf *buffer) {
	switch {
	case buf.status == http.StatusUnauthorized && !hasToken(r):
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write(errorBody(InvalidRequest, "an access token is required"))
	case buf.status == http.StatusUnauthorized:
		bearerError(w, http.StatusUnauthorized, InvalidToken, "the access token is invalid")
	case buf.status == http.StatusForbidden:
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(buf.body.Bytes(), &body)
		switch body.Error {
		case InsufficientScope:
			bearerError(w, http.StatusForbidden, InsufficientScope, body.Description)
		case "temporarily_unavailable":
			w.Header().Set("Retry-After", "5")
			buf.send(w, http.StatusServiceUnavailable)
		case "server_error", "":
			buf.send(w, http.StatusInternalServerError)
		default:
			desc := body.Description
			if body.Error != InvalidToken {
				desc = "the access token is invalid"
			}
			bearerError(w, http.StatusUnauthorized, InvalidToken, desc)
		}
	default:
		buf.send(w, buf.status)
	}
}

func hasToken(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return true
	}
	return r.Form.Get("access_token") != ""
}

// bearerError answers an RFC 6750 §3 error.
func bearerError(w http.ResponseWriter, status int, code, desc string) {
	ch := `Bearer realm="` + Realm + `", error="` + code + `"`
	if desc != "" {
		ch += `, error_description=` + strconv.Quote(strings.ReplaceAll(desc, `"`, "'"))
	}
	if code == InsufficientScope {
		ch += `, scope="openid"`
	}
	w.Header().Set("WWW-Authenticate", ch)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(code, desc))
}

// buffer holds a response so its status can be rewritten.
type buffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *buffer) Header() http.Header { return b.header }
func (b *buffer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *buffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *buffer) send(w http.ResponseWriter, status int) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.body.Bytes())
}
