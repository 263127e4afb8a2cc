package redis

import (
	"encoding/json"
	"time"

	"github.com/customerhub/hubid/store"
)

// The two records there are one of per signed-in browser and per grant,
// sessions and refresh tokens, are stored compactly: short field names,
// times as Unix nanoseconds, empty fields left out, and no field the key
// holds already (a session's ID, a token's ID and family; a token's
// rotation lives in its own hash fields). That halves their JSON, which
// is most of their memory (see docs/benchmarks.md). Records written in
// the earlier form, store.Session's and store.RefreshToken's own JSON,
// are still read: a record without the compact user field is decoded in
// that form. The compact form always has the user field "u", even
// empty; the earlier one never has it.

// sessionJSON is a session as stored.
type sessionJSON store.Session

type compactSession struct {
	UserID      *string            `json:"u"`
	AuthTime    int64              `json:"at,omitempty"`
	AMR         []string           `json:"amr,omitempty"`
	Remember    bool               `json:"r,omitempty"`
	CreatedAt   int64              `json:"c,omitempty"`
	LastSeen    int64              `json:"l,omitempty"`
	AbsoluteEnd int64              `json:"ae,omitempty"`
	ExpiresAt   int64              `json:"x,omitempty"`
	Clients     []string           `json:"cl,omitempty"`
	OrgChoices  map[string]string  `json:"oc,omitempty"`
	IP          string             `json:"ip,omitempty"`
	UserAgent   string             `json:"ua,omitempty"`
	PendingTOTP *store.PendingTOTP `json:"pt,omitempty"`
}

func (x sessionJSON) MarshalJSON() ([]byte, error) {
	return json.Marshal(compactSession{UserID: &x.UserID, AuthTime: nanos(x.AuthTime), AMR: x.AMR,
		Remember: x.Remember, CreatedAt: nanos(x.CreatedAt), LastSeen: nanos(x.LastSeen),
		AbsoluteEnd: nanos(x.AbsoluteEnd), ExpiresAt: nanos(x.ExpiresAt), Clients: x.Clients,
		OrgChoices: x.OrgChoices, IP: x.IP, UserAgent: x.UserAgent, PendingTOTP: x.PendingTOTP})
}

// UnmarshalJSON reads either form; the compact one leaves ID empty (the
// caller knows it from the key).
func (x *sessionJSON) UnmarshalJSON(b []byte) error {
	var c compactSession
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	if c.UserID == nil {
		*x = sessionJSON{}
		return json.Unmarshal(b, (*store.Session)(x))
	}
	*x = sessionJSON{UserID: *c.UserID, AuthTime: fromNanos(c.AuthTime), AMR: c.AMR, Remember: c.Remember,
		CreatedAt: fromNanos(c.CreatedAt), LastSeen: fromNanos(c.LastSeen), AbsoluteEnd: fromNanos(c.AbsoluteEnd),
		ExpiresAt: fromNanos(c.ExpiresAt), Clients: c.Clients, OrgChoices: c.OrgChoices, IP: c.IP,
		UserAgent: c.UserAgent, PendingTOTP: c.PendingTOTP}
	return nil
}

// tokenJSON is a refresh token as stored.
type tokenJSON store.RefreshToken

type compactToken struct {
	UserID          *string  `json:"u"`
	ClientID        string   `json:"c,omitempty"`
	SessionID       string   `json:"s,omitempty"`
	Scopes          []string `json:"sc,omitempty"`
	Audience        []string `json:"au,omitempty"`
	AMR             []string `json:"amr,omitempty"`
	AuthTime        int64    `json:"at,omitempty"`
	OrgID           string   `json:"o,omitempty"`
	Offline         bool     `json:"off,omitempty"`
	FamilyCreatedAt int64    `json:"fc,omitempty"`
	CreatedAt       int64    `json:"ca,omitempty"`
	ExpiresAt       int64    `json:"x,omitempty"`
	AccessID        string   `json:"ai,omitempty"`
	AccessExpiresAt int64    `json:"ax,omitempty"`
}

func (t tokenJSON) MarshalJSON() ([]byte, error) {
	return json.Marshal(compactToken{UserID: &t.UserID, ClientID: t.ClientID, SessionID: t.SessionID,
		Scopes: t.Scopes, Audience: t.Audience, AMR: t.AMR, AuthTime: nanos(t.AuthTime), OrgID: t.OrgID,
		Offline: t.Offline, FamilyCreatedAt: nanos(t.FamilyCreatedAt), CreatedAt: nanos(t.CreatedAt),
		ExpiresAt: nanos(t.ExpiresAt), AccessID: t.AccessID, AccessExpiresAt: nanos(t.AccessExpiresAt)})
}

// UnmarshalJSON reads either form; the compact one leaves ID, FamilyID
// and the rotation empty (the caller fills them in).
func (t *tokenJSON) UnmarshalJSON(b []byte) error {
	var c compactToken
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	if c.UserID == nil {
		*t = tokenJSON{}
		return json.Unmarshal(b, (*store.RefreshToken)(t))
	}
	*t = tokenJSON{UserID: *c.UserID, ClientID: c.ClientID, SessionID: c.SessionID, Scopes: c.Scopes,
		Audience: c.Audience, AMR: c.AMR, AuthTime: fromNanos(c.AuthTime), OrgID: c.OrgID, Offline: c.Offline,
		FamilyCreatedAt: fromNanos(c.FamilyCreatedAt), CreatedAt: fromNanos(c.CreatedAt), ExpiresAt: fromNanos(c.ExpiresAt),
		AccessID: c.AccessID, AccessExpiresAt: fromNanos(c.AccessExpiresAt)}
	return nil
}

// nanos is t in Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is nanos' inverse, in UTC (the zero time for 0).
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
