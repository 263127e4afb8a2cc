// Package oauthstrict is a strict layer in front of zitadel/oidc's OAuth
// endpoints, where the library is permissive (RFC 6749, 6750, 7636, 7009,
// 7662): it parses every request itself — POST only, a url-encoded body of
// bounded size, no parameters in the query string, each parameter once,
// valid UTF-8 without NUL, one way of client authentication — and
// authenticates the client before op looks at a code or token. What it
// lets through reaches op with r.Form already set, so op never parses the
// body again. It also gives userinfo the RFC 6750 Bearer errors, and with
// Layer.Tokens answers userinfo and introspection itself (tokeninfo.go).
package oauthstrict

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/customerhub/hubid/idp/httpx"
)

// Endpoint is a client-authenticated OAuth endpoint.
type Endpoint int

// The endpoints the strict parser serves.
const (
	Token      Endpoint = iota // RFC 6749 §3.2
	Introspect                 // RFC 7662
	Revoke                     // RFC 7009
)

// OAuth error codes used here (RFC 6749 §5.2, RFC 6750 §3.1).
const (
	InvalidRequest    = "invalid_request"
	InvalidClient     = "invalid_client"
	InvalidGrant      = "invalid_grant"
	InvalidToken      = "invalid_token"
	InsufficientScope = "insufficient_scope"
)

// Error is a refused request: the HTTP status, the OAuth error and its
// description, and whether the answer must challenge for Basic
// credentials (RFC 6749 §5.2: 401 with WWW-Authenticate when the client
// used the Authorization header).
type Error struct {
	Status      int
	Code        string
	Description string
	Basic       bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalidRequest(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: InvalidRequest, Description: desc}
}

func invalidClient(desc string, basic bool) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: InvalidClient, Description: desc, Basic: basic}
}

// Request is a parsed client-authenticated request: its parameters (one
// value each) and the client's credentials.
type Request struct {
	Params   url.Values
	ClientID string
	Secret   string
	Basic    bool // the credentials came in the Authorization header
}

// Parse checks a request to the token, introspection or revocation
// endpoint and extracts the client credentials. It does no I/O: the
// caller reads the body (at most httpx.MaxBody bytes) and authenticates
// the client afterwards.
func Parse(method string, header http.Header, rawQuery string, body []byte) (*Request, *Error) {
	if method != http.MethodPost {
		return nil, &Error{Status: http.StatusMethodNotAllowed, Code: InvalidRequest, Description: "use POST"}
	}
	if rawQuery != "" {
		return nil, invalidRequest("parameters must be sent in the request body, not in the query string")
	}
	if !httpx.IsForm(header) {
		return nil, invalidRequest("the request body must be " + httpx.FormContentType)
	}
	if len(body) > httpx.MaxBody {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: InvalidRequest, Description: httpx.ErrTooLarge.Error()}
	}
	params, err := httpx.ParseParams(string(body))
	if err != nil {
		return nil, invalidRequest(err.Error())
	}
	if p := httpx.Repeated(params); p != "" {
		return nil, invalidRequest("the parameter " + p + " is repeated")
	}
	req := &Request{Params: params}
	if params.Get("client_assertion") != "" || params.Get("client_assertion_type") != "" {
		return nil, invalidClient("client assertions are not supported; use HTTP Basic", false)
	}
	if auth := header.Values("Authorization"); len(auth) > 0 {
		if len(auth) > 1 {
			return nil, invalidRequest("the Authorization header is repeated")
		}
		id, secret, ok := basicAuth(auth[0])
		if !ok {
			return nil, invalidClient("the Authorization header must carry HTTP Basic client credentials", true)
		}
		if params.Get("client_secret") != "" {
			return nil, invalidRequest("client credentials must be sent one way only: HTTP Basic or the request body")
		}
		if b := params.Get("client_id"); b != "" && b != id {
			return nil, invalidRequest("client_id differs from the HTTP Basic credentials")
		}
		req.ClientID, req.Secret, req.Basic = id, secret, true
	} else {
		req.ClientID, req.Secret = params.Get("client_id"), params.Get("client_secret")
	}
	if req.ClientID == "" {
		return nil, invalidClient("client authentication is required", req.Basic)
	}
	return req, nil
}

// basicAuth decodes HTTP Basic client credentials: base64 of id:secret,
// each form-urlencoded (RFC 6749 §2.3.1), valid UTF-8 without NUL.
func basicAuth(h string) (id, secret string, ok bool) {
	const prefix = "basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", false
	}
	if !httpx.CleanText(id) || !httpx.CleanText(secret) {
		return "", "", false
	}
	return id, secret, true
}

// ValidVerifier reports whether v has the syntax of an RFC 7636 §4.1
// code_verifier: 43 to 128 characters of [A-Za-z0-9-._~].
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
