package oidcstore

import (
	"context"
	"crypto/subtle"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/store"
)

// memo remembers the clients and users one HTTP request has loaded: op
// asks for the same client two or three times per token request (client
// authentication, then the client itself) and a refresh loads the user
// for validation and again for the ID token. It lives only as long as the
// request, so nothing is ever stale across requests.
type memo struct {
	mu      sync.Mutex
	clients map[string]store.Client
	users   map[string]store.User
	authed  map[string]string // client ID → the secret it was authenticated with
	// caller is the client the request is from: the first one client
	// authentication or op looked up as the request's own.
	caller  string
	failure atomic.Value // apperr.Code: the kind of the storage failure met during the request
}

type memoKey struct{}

// WithMemo returns ctx with a fresh request memo (or ctx itself when it
// already has one).
func WithMemo(ctx context.Context) context.Context {
	if memoOf(ctx) != nil {
		return ctx
	}
	return context.WithValue(ctx, memoKey{}, &memo{}) // maps made on first write
}

// Memoize is an HTTP middleware (an op interceptor) that gives each
// request its memo.
func Memoize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithMemo(r.Context())))
	})
}

// Unavailable reports whether a backend outage was met during the request
// of ctx (made with WithMemo). op wraps some storage errors in
// invalid_grant; this lets the caller still answer 503
// temporarily_unavailable, so a client does not discard a good refresh
// token because Redis was briefly down.
func Unavailable(ctx context.Context) bool { return Failure(ctx) == apperr.Unavailable }

// Failure is the kind of the storage failure met during the request of
// ctx (made with WithMemo): apperr.Unavailable when a backend was down
// (that wins over any other), apperr.Internal for another failure, ""
// when storage did not fail. op turns our errors into its own (a failed
// client lookup at /authorize becomes a 400 "invalid request" text), so
// the kind travels beside them, not inside them.
func Failure(ctx context.Context) apperr.Code {
	m := memoOf(ctx)
	if m == nil {
		return ""
	}
	c, _ := m.failure.Load().(apperr.Code)
	return c
}

// noteFailure records the kind of a storage failure in ctx's memo.
func noteFailure(ctx context.Context, err error) {
	m := memoOf(ctx)
	if m == nil {
		return
	}
	code := apperr.CodeOf(err)
	if code != apperr.Unavailable {
		code = apperr.Internal
	}
	if code == apperr.Unavailable {
		m.failure.Store(code)
		return
	}
	m.failure.CompareAndSwap(nil, code)
}

func memoOf(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

// clientCache keeps clients for a few seconds across requests: they are
// read on every token request and change rarely (registration, seed). A
// change reaches every replica within the TTL; unknown IDs are never
// cached, so a new client works at once.
type clientCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cachedClient
}

type cachedClient struct {
	c       store.Client
	expires time.Time
}

func (cc *clientCache) get(id string) (store.Client, bool) {
	if cc == nil || cc.ttl <= 0 {
		return store.Client{}, false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[id]
	if !ok || !cc.now().Before(e.expires) {
		return store.Client{}, false
	}
	return e.c, true
}

func (cc *clientCache) put(c store.Client) {
	if cc == nil || cc.ttl <= 0 {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.m) > 10000 { // bounded: drop everything rather than grow
		cc.m = map[string]cachedClient{}
	}
	cc.m[c.ID] = cachedClient{c: c, expires: cc.now().Add(cc.ttl)}
}

// client loads a client once per request, and from the short cache.
func (s *Storage) client(ctx context.Context, id string) (store.Client, error) {
	m := memoOf(ctx)
	if m != nil {
		m.mu.Lock()
		c, ok := m.clients[id]
		m.mu.Unlock()
		if ok {
			return c, nil
		}
	}
	if c, ok := s.clients.get(id); ok {
		return c, nil
	}
	c, err := s.db.GetClient(ctx, id)
	if err == nil {
		s.clients.put(c)
	}
	if err == nil && m != nil {
		m.mu.Lock()
		if m.clients == nil {
			m.clients = map[string]store.Client{}
		}
		m.clients[id] = c
		m.mu.Unlock()
	}
	return c, err
}

// user loads a user once per request.
func (s *Storage) user(ctx context.Context, id string) (store.User, error) {
	m := memoOf(ctx)
	if m != nil {
		m.mu.Lock()
		u, ok := m.users[id]
		m.mu.Unlock()
		if ok {
			return u, nil
		}
	}
	var u store.User
	var err error
	if s.cfg.Users != nil {
		u, err = s.cfg.Users(ctx, id)
	} else {
		u, err = s.db.GetUser(ctx, id)
	}
	if err == nil && m != nil {
		m.mu.Lock()
		if m.users == nil {
			m.users = map[string]store.User{}
		}
		m.users[id] = u
		m.mu.Unlock()
	}
	return u, err
}

// rememberAuth records that client id authenticated with secret during
// the request.
func rememberAuth(ctx context.Context, id, secret string) {
	if m := memoOf(ctx); m != nil {
		m.mu.Lock()
		if m.authed == nil {
			m.authed = map[string]string{}
		}
		m.authed[id] = secret
		m.mu.Unlock()
	}
}

// authenticatedBefore reports whether client id already authenticated
// with this same secret during the request (compared in constant time).
func authenticatedBefore(ctx context.Context, id, secret string) bool {
	m := memoOf(ctx)
	if m == nil {
		return false
	}
	m.mu.Lock()
	prev, ok := m.authed[id]
	m.mu.Unlock()
	return ok && subtle.ConstantTimeCompare([]byte(prev), []byte(secret)) == 1
}

// noteCaller records id as the client the request of ctx is from, unless
// one is recorded already.
func noteCaller(ctx context.Context, id string) {
	if m := memoOf(ctx); m != nil {
		m.mu.Lock()
		if m.caller == "" {
			m.caller = id
		}
		m.mu.Unlock()
	}
}

// callerOf is the client the request of ctx is from ("" when unknown).
func callerOf(ctx context.Context) string {
	m := memoOf(ctx)
	if m == nil {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.caller
}
