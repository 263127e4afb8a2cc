package store

import "context"

// requestMetaKey keys the request's client address and User-Agent in a
// context.
type requestMetaKey struct{}

// RequestMeta is who sent the request a write is made for: the client's
// IP address (after the trusted proxies) and its User-Agent.
type RequestMeta struct {
	IP, UserAgent string
}

// WithRequestMeta returns ctx carrying the request's client IP address
// and User-Agent. The HTTP layer sets it once per request; every audit
// event appended with that context (or one derived from it) records them
// unless the event names its own (see AuditEvent.FillRequestMeta).
func WithRequestMeta(ctx context.Context, ip, userAgent string) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, RequestMeta{IP: ip, UserAgent: userAgent})
}

// RequestMetaFrom returns what WithRequestMeta put in ctx (zero without).
func RequestMetaFrom(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMeta)
	return m
}

// FillRequestMeta returns e with its empty IP and UserAgent taken from
// ctx's request meta. Backends call it in AppendAudit.
func (e AuditEvent) FillRequestMeta(ctx context.Context) AuditEvent {
	m := RequestMetaFrom(ctx)
	if e.IP == "" {
		e.IP = m.IP
	}
	if e.UserAgent == "" {
		e.UserAgent = m.UserAgent
	}
	return e
}
