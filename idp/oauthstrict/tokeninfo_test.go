package oauthstrict

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// fakeTokens answers "good" and refuses every other token with err.
type fakeTokens struct {
	err   error
	calls []string
}

func (f *fakeTokens) Userinfo(_ context.Context, token string) ([]byte, error) {
	f.calls = append(f.calls, token)
	if token == "good" {
		return []byte("{\"sub\":\"u1\"}\n"), nil
	}
	return nil, f.err
}

func (f *fakeTokens) Introspect(_ context.Context, token string) []byte {
	f.calls = append(f.calls, token)
	if token == "good" {
		return []byte("{\"active\":true}\n")
	}
	return []byte("{\"active\":false}\n")
}

// op stands in for op's handler: it marks that it was called.
var op = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"from":"op"}`))
})

// TestUserinfoFromTokens: a Bearer token in the Authorization header (any
// case of the scheme, a form body or not) is answered by Tokens, and its
// refusals become the RFC 6750 answers op's would; a request without one
// goes to op.
func TestUserinfoFromTokens(t *testing.T) {
	for _, tc := range []struct {
		name, method, auth, body string
		err                      error
		status                   int
		want, challenge          string // body substring, WWW-Authenticate substring
		viaOp                    bool
	}{
		{name: "good", method: "GET", auth: "Bearer good", status: 200, want: "{\"sub\":\"u1\"}\n"},
		{name: "scheme in any case", method: "GET", auth: "bEARER good", status: 200, want: `"sub":"u1"`},
		{name: "POST with a form", method: "POST", auth: "Bearer good", body: "x=1", status: 200, want: `"sub":"u1"`},
		{name: "not verified", method: "GET", auth: "Bearer bad", err: &oidc.Error{ErrorType: "invalid_token", Description: "the access token is invalid"},
			status: 401, want: `"error":"invalid_token"`, challenge: `error="invalid_token", error_description="the access token is invalid"`},
		{name: "revoked", method: "GET", auth: "Bearer bad", err: &oidc.Error{ErrorType: "invalid_token", Description: "the token is expired or revoked"},
			status: 401, challenge: `error_description="the token is expired or revoked"`},
		{name: "account gone", method: "GET", auth: "Bearer bad", err: oidc.ErrAccessDenied().WithDescription("the account may no longer use this service"),
			status: 401, challenge: `error="invalid_token", error_description="the access token is invalid"`},
		{name: "no openid scope", method: "GET", auth: "Bearer bad", err: &oidc.Error{ErrorType: "insufficient_scope", Description: "userinfo needs a token with the openid scope"},
			status: 403, challenge: `error="insufficient_scope"`},
		{name: "outage", method: "GET", auth: "Bearer bad", err: &oidc.Error{ErrorType: "temporarily_unavailable", Description: "down"},
			status: 503, want: `"error":"temporarily_unavailable"`},
		{name: "failure", method: "GET", auth: "Bearer bad", err: errors.New("boom"), status: 500},
		{name: "empty token", method: "GET", auth: "Bearer ", viaOp: true, status: 200},
		{name: "no header", method: "GET", viaOp: true, status: 200},
		{name: "basic", method: "GET", auth: "Basic dTpw", viaOp: true, status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokens := &fakeTokens{err: tc.err}
			l := &Layer{Tokens: tokens}
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			var req *http.Request
			if body != nil {
				req = httptest.NewRequest(tc.method, "/userinfo", body)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req = httptest.NewRequest(tc.method, "/userinfo", nil)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			l.Userinfo(op).ServeHTTP(rec, req)
			got := rec.Body.String()
			if fromOp := strings.Contains(got, `"from":"op"`); fromOp != tc.viaOp {
				t.Fatalf("answered by op: %v, want %v (%s)", fromOp, tc.viaOp, got)
			}
			if tc.viaOp {
				if len(tokens.calls) != 0 {
					t.Fatalf("Tokens asked for %q", tokens.calls)
				}
				return
			}
			if rec.Code != tc.status || !strings.Contains(got, tc.want) || !strings.Contains(rec.Header().Get("WWW-Authenticate"), tc.challenge) {
				t.Fatalf("%d %q %s; want %d %q %s", rec.Code, rec.Header().Get("WWW-Authenticate"), got, tc.status, tc.challenge, tc.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			if tc.status == 503 && rec.Header().Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
}

// TestIntrospectionFromTokens: with Tokens, introspection is answered by
// it after the client is authenticated, never by op; a client that fails
// authentication reaches neither.
func TestIntrospectionFromTokens(t *testing.T) {
	tokens := &fakeTokens{}
	l := &Layer{Tokens: tokens, Clients: clientsFunc(func(id, secret string) (bool, error) {
		if secret != "s3cret" {
			return false, oidc.ErrInvalidClient().WithDescription("client authentication failed")
		}
		return id == "public", nil
	})}
	post := func(auth, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/oauth/introspect", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		l.Introspect(op).ServeHTTP(rec, req)
		return rec
	}
	if rec := post(basicHeader("rs", "s3cret"), "token=good"); rec.Code != 200 || rec.Body.String() != "{\"active\":true}\n" {
		t.Fatalf("active token: %d %s", rec.Code, rec.Body)
	}
	if rec := post(basicHeader("rs", "s3cret"), "token=other"); rec.Code != 200 || rec.Body.String() != "{\"active\":false}\n" {
		t.Fatalf("other token: %d %s", rec.Code, rec.Body)
	}
	if rec := post(basicHeader("rs", "wrong"), "token=good"); rec.Code != 401 || !strings.Contains(rec.Body.String(), "invalid_client") {
		t.Fatalf("wrong secret: %d %s", rec.Code, rec.Body)
	}
	if rec := post(basicHeader("public", "s3cret"), "token=good"); rec.Code != 401 {
		t.Fatalf("public client: %d %s", rec.Code, rec.Body)
	}
	if len(tokens.calls) != 2 {
		t.Fatalf("Tokens asked for %q, want the two authenticated requests only", tokens.calls)
	}
}

type clientsFunc func(id, secret string) (bool, error)

func (f clientsFunc) AuthenticateClient(_ context.Context, id, secret string) (bool, error) {
	return f(id, secret)
}
