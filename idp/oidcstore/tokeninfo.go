package oidcstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/customerhub/hubid/idp/tokencache"
	"github.com/customerhub/hubid/store"
)

// VerifyFunc checks a bearer access token as op does — the seal of an
// opaque token, or a JWT's issuer, signature and expiry — and returns its
// ID and subject.
type VerifyFunc func(ctx context.Context, token string) (id, subject string, err error)

// TokenInfo answers userinfo and introspection for a bearer access token
// as op with this storage would, byte for byte, at a fraction of the cost
// when the token comes again:
//
//   - a token is verified once (VerifyFunc: an RSA or ECDSA verification
//     and JOSE parsing); its decoded ID is kept in a tokencache keyed by
//     the token's SHA-256, until the token expires or the signing keys
//     change;
//   - at every request, cached or not, the same checks as op's path run:
//     expiry by the injected clock, revocation (the in-memory mirror), the
//     scope, the account (idp/usercache);
//   - the JSON answer made for a token is kept with it, with the user
//     record it was made of, and served again while the user record is
//     the same. Answers with scope roles are made anew every time: their
//     organization and legacy claims are read fresh from the store at
//     every request, as before.
type TokenInfo struct {
	s      *Storage
	verify VerifyFunc
	cache  *tokencache.Cache[*verified]
}

// verified is what verifying a token established, and the answers made of
// it. It is never modified once in the cache: a new answer is a new copy.
type verified struct {
	a                       accessInfo
	ver                     uint64 // signing keys version it was verified under
	userinfo, introspection *answer
}

// answer is an encoded answer and the user record it was made of (the
// zero User for a client's own token).
type answer struct {
	user store.User
	body []byte
}

// size estimates the bytes v holds beyond tokencache.Overhead.
func (v *verified) size() int {
	a := v.a
	n := 64 + len(a.Grant) + len(a.Client) + len(a.Subject) + len(a.Session) + len(a.Org) + len(a.Nonce)
	for _, s := range a.Scopes {
		n += 16 + len(s)
	}
	for _, an := range []*answer{v.userinfo, v.introspection} {
		if an != nil {
			u := an.user
			n += 160 + len(an.body) + len(u.ID) + len(u.Email) + len(u.Name) + len(u.Locale) + len(u.PasswordHash)
		}
	}
	return n
}

func (v *verified) expires() time.Time { return time.Unix(v.a.Expires, 0) }

// NewTokenInfo returns the answers of s, with verify for tokens not in the
// cache; cfg configures the cache (and where its metrics go).
func (s *Storage) NewTokenInfo(verify VerifyFunc, cfg tokencache.Config) (*TokenInfo, error) {
	c, err := tokencache.New[*verified](cfg)
	if err != nil {
		return nil, err
	}
	return &TokenInfo{s: s, verify: verify, cache: c}, nil
}

var errUnverified = errors.New("access token not verified")

// lookup returns what verifying token established, from the cache or by
// verifying it now (and caching it).
func (t *TokenInfo) lookup(ctx context.Context, key tokencache.Key, token string) (*verified, error) {
	if v, ok := t.cache.Get(key); ok {
		return v, nil
	}
	ver := t.cache.Version()
	id, subject, err := t.verify(ctx, token)
	if err != nil {
		return nil, errUnverified
	}
	a, err := decodeAccessInfo(id)
	if err != nil || a.Subject != subject {
		return nil, errNotAccessToken()
	}
	v := &verified{a: a, ver: ver}
	t.cache.Put(key, ver, v, v.expires(), v.size())
	return v, nil
}

// keep caches v's new answer (not for scope roles, whose claims are read
// at every request).
func (t *TokenInfo) keep(key tokencache.Key, v *verified) {
	if !wantsRoles(v.a.Scopes) {
		t.cache.Put(key, v.ver, v, v.expires(), v.size())
	}
}

// Userinfo returns the userinfo answer for token (JSON, as op writes it),
// or the error op's userinfo would have met: invalid_token when the
// token does not verify, else SetUserinfoFromToken's.
func (t *TokenInfo) Userinfo(ctx context.Context, token string) ([]byte, error) {
	key := tokencache.KeyOf(token)
	v, err := t.lookup(ctx, key, token)
	if errors.Is(err, errUnverified) {
		return nil, invalidToken("the access token is invalid")
	}
	if err != nil {
		return nil, err
	}
	u, err := t.s.userinfoCheck(ctx, v.a)
	if err != nil {
		return nil, err
	}
	if an := v.userinfo; an != nil && an.user == u {
		return an.body, nil
	}
	var info oidc.UserInfo
	if err := t.s.fillUserinfo(ctx, v.a, u, &info); err != nil {
		return nil, err
	}
	body, err := encodeJSON(&info)
	if err != nil {
		return nil, t.s.serverError(ctx, "encode userinfo", err)
	}
	nv := *v
	nv.userinfo = &answer{user: u, body: body}
	t.keep(key, &nv)
	return body, nil
}

// inactive is the introspection answer for a token that is not active.
var inactive = mustEncode(new(oidc.IntrospectionResponse))

// Introspect returns the RFC 7662 answer for token (JSON, as op writes
// it): {"active":false} unless it verifies and SetIntrospectionFromToken would
// find it active.
func (t *TokenInfo) Introspect(ctx context.Context, token string) []byte {
	key := tokencache.KeyOf(token)
	v, err := t.lookup(ctx, key, token)
	if err != nil {
		return inactive
	}
	u, err := t.s.introspectionCheck(ctx, v.a)
	if err != nil {
		return inactive
	}
	if an := v.introspection; an != nil && an.user == u {
		return an.body
	}
	resp := &oidc.IntrospectionResponse{}
	if err := t.s.fillIntrospection(ctx, v.a, u, resp); err != nil {
		return inactive
	}
	resp.Active = true
	body, err := encodeJSON(resp)
	if err != nil {
		_ = t.s.serverError(ctx, "encode introspection", err)
		return inactive
	}
	nv := *v
	nv.introspection = &answer{user: u, body: body}
	t.keep(key, &nv)
	return body
}

// encodeJSON encodes v as op's handlers do (json.Encoder: HTML escaped,
// a trailing newline).
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func mustEncode(v any) []byte {
	b, err := encodeJSON(v)
	if err != nil {
		panic(err)
	}
	return b
}
