package adminapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/orgs"
)

// TokenActor is the operator name of requests made with the operator
// token: audited as "operator:admin-token".
const TokenActor = "admin-token"

// ClientActor is the operator name of requests made with an admin
// client's token: audited as "operator:client:<id>".
func ClientActor(clientID string) string { return "client:" + clientID }

type actorKey struct{}

func withActor(ctx context.Context, actor orgs.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the operator making the request; its AuditID is what
// the audit log records.
func ActorOf(ctx context.Context) orgs.Actor {
	a, _ := ctx.Value(actorKey{}).(orgs.Actor)
	return a
}

// authenticate returns the operator name of the request: the operator token, or a
// verified client_credentials access token with the hubid:admin scope of
// a client listed in admin.clients. A missing or invalid credential is
// 401; a valid token that does not make its bearer an operator (another
// scope, a person's token, a client not listed) is 403: the API is the
// operators', and organization administrators have no access to it.
func (a *API) authenticate(r *http.Request) (string, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", apperr.New(apperr.Unauthorized, "a bearer token is required: the admin token or an access token with scope "+Scope)
	}
	if a.hasToken {
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(got[:], a.token[:]) == 1 {
			return TokenActor, nil
		}
	}
	if a.cfg.Tokens == nil || strings.Count(tok, ".") != 2 {
		return "", apperr.New(apperr.Unauthorized, "the bearer token is not valid")
	}
	c, err := a.cfg.Tokens.Verify(r.Context(), tok)
	if err != nil {
		return "", err
	}
	switch {
	case !slices.Contains(c.Scopes, Scope):
		return "", apperr.New(apperr.Forbidden, "the access token does not carry scope "+Scope)
	case c.ClientID == "" || c.Subject != c.ClientID:
		// A person's token: the API is for operators, not for people.
		return "", apperr.New(apperr.Forbidden, "only client_credentials tokens of admin clients may call the admin API")
	case !slices.Contains(a.cfg.Clients, c.ClientID):
		return "", apperr.New(apperr.Forbidden, "the client is not an admin client (admin.clients)")
	}
	return ClientActor(c.ClientID), nil
}
