package oauthstrict

import (
	"context"
	"net/http"
	"strings"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TokenInfo answers userinfo and introspection for a bearer access token
// as op would (idp/oidcstore.TokenInfo, over a cache of verified tokens),
// so that these two endpoints, called for the same token again and again
// by resource servers, need neither op's token parsing nor a signature
// verification each time.
type TokenInfo interface {
	// Userinfo returns the answer (JSON, as op writes it) or the error
	// op's userinfo would have met: an *oidc.Error, invalid_token for a
	// token that does not verify.
	Userinfo(ctx context.Context, token string) ([]byte, error)
	// Introspect returns the RFC 7662 answer (JSON, as op writes it),
	// {"active":false} for anything not an active access token.
	Introspect(ctx context.Context, token string) []byte
}

// bearer returns the token of an Authorization: Bearer header as op
// reads it (the scheme in any case, the rest as is); ok is false without
// one, or with an empty token (then op's path answers that a token is
// required).
func bearer(h http.Header) (token string, ok bool) {
	a := h.Get("Authorization")
	if len(a) <= len(oidc.PrefixBearer) || !strings.EqualFold(a[:len(oidc.PrefixBearer)], oidc.PrefixBearer) {
		return "", false
	}
	return a[len(oidc.PrefixBearer):], true
}

// userinfo answers from Tokens; a refusal is written as op would write
// it, then rewritten as for op's answers.
func (l *Layer) userinfo(w http.ResponseWriter, r *http.Request, token string) {
	body, err := l.Tokens.Userinfo(r.Context(), token)
	if err != nil {
		buf := &buffer{header: http.Header{}}
		httphelper.MarshalJSONWithStatus(buf, err, http.StatusForbidden)
		answerUserinfo(w, r, buf)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// introspect answers an introspection request whose client the strict
// layer has authenticated (r.Form holds the parsed body).
func (l *Layer) introspect(w http.ResponseWriter, r *http.Request) {
	body := l.Tokens.Introspect(r.Context(), r.Form.Get("token"))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
