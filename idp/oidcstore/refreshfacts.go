package oidcstore

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/customerhub/hubid/store"
)

// A refresh token's value is family "." secret "." facts (see
// refreshValue). The facts are what a refresh needs to validate the
// token before it rotates it — whose it is, for which client, session and
// organization, with which scopes and sign-in — and never change while
// the token lives. They let a refresh skip reading the token from the
// store: the rotation, one atomic store call, is then the only round
// trip, and it is also what proves the facts genuine, because the store
// keeps the SHA-256 of the whole value, facts included, and finds the
// token only under that hash. A value whose facts were altered names a
// token that does not exist, so it rotates nothing and is refused.
//
// The facts are not secret from the client that holds the token (its ID
// token says as much) and the value stays opaque to it: clients store
// it as they got it and never parse it.
type refreshFacts struct {
	User     string   `json:"u"`
	Client   string   `json:"c"`
	Session  string   `json:"s,omitempty"`
	Org      string   `json:"o,omitempty"`
	Scopes   []string `json:"sc,omitempty"`
	Audience []string `json:"a,omitempty"`
	AMR      []string `json:"m,omitempty"`
	AuthTime int64    `json:"t,omitempty"` // Unix ns, 0 for none
	Family   int64    `json:"f"`           // when the family started, Unix ns
	Expires  int64    `json:"x"`           // when this token expires, Unix ns
	Offline  bool     `json:"off,omitempty"`
}

// encodeFacts returns the facts part of t's value.
func encodeFacts(t store.RefreshToken) (string, error) {
	b, err := json.Marshal(refreshFacts{User: t.UserID, Client: t.ClientID, Session: t.SessionID, Org: t.OrgID,
		Scopes: t.Scopes, Audience: t.Audience, AMR: t.AMR, AuthTime: unixNanos(t.AuthTime),
		Family: unixNanos(t.FamilyCreatedAt), Expires: unixNanos(t.ExpiresAt), Offline: t.Offline})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeFacts returns the token of family with stored ID id that facts
// describe; ok is false when they cannot be decoded or lack a user or a
// client. The record has no rotation state: only the store knows it.
func decodeFacts(family, id, facts string) (store.RefreshToken, bool) {
	b, err := base64.RawURLEncoding.DecodeString(facts)
	if err != nil {
		return store.RefreshToken{}, false
	}
	var f refreshFacts
	if err := json.Unmarshal(b, &f); err != nil || f.User == "" || f.Client == "" || f.Expires == 0 {
		return store.RefreshToken{}, false
	}
	return store.RefreshToken{ID: id, FamilyID: family, UserID: f.User, ClientID: f.Client, SessionID: f.Session,
		OrgID: f.Org, Scopes: f.Scopes, Audience: f.Audience, AMR: f.AMR, AuthTime: fromUnixNanos(f.AuthTime),
		FamilyCreatedAt: fromUnixNanos(f.Family), ExpiresAt: fromUnixNanos(f.Expires), Offline: f.Offline}, true
}

// refreshValue is the refresh token a client holds for next (whose
// family and expiry are set): its family (the grant ID), a dot, 256
// random bits, a dot, and its facts (see refreshFacts). The store keeps
// only the SHA-256 of the whole value. Naming the family in the value
// makes every lookup one round trip to the store (no token→family index
// to read or write); the family ID is no secret (it is also in the
// access token's jti), and a value whose family or facts part was
// altered hashes to a token that does not exist.
func refreshValue(next store.RefreshToken, secret string) (string, error) {
	facts, err := encodeFacts(next)
	if err != nil {
		return "", err
	}
	return next.FamilyID + "." + secret + "." + facts, nil
}

// parseRefresh returns the family, the stored ID and the facts ("" for a
// value issued before facts were carried: family.secret) of a refresh
// token; ok is false when the value cannot be one.
func parseRefresh(v string) (family, id, facts string, ok bool) {
	family, rest, found := strings.Cut(v, ".")
	if !found || family == "" {
		return "", "", "", false
	}
	secret, facts, _ := strings.Cut(rest, ".")
	if secret == "" || strings.Contains(facts, ".") {
		return "", "", "", false
	}
	return family, HashToken(v), facts, true
}

// unixNanos is t in Unix nanoseconds, 0 for the zero time.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNanos is unixNanos' inverse, in UTC (the zero time for 0).
func fromUnixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
