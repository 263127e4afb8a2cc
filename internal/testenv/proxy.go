package testenv

import (
	"net/url"
	"testing"

	"github.com/customerhub/hubid/internal/faultproxy"
)

// Proxy is a fault-injecting TCP proxy to a backend (see
// internal/faultproxy): a test can cut, hang and restore the backend
// without stopping a server other tests share.
type Proxy = faultproxy.Proxy

// NewProxy listens on a loopback port and forwards to target until the
// test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p, err := faultproxy.New(target)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// PostgresViaProxy puts a proxy in front of the server of dsn (a
// postgres:// URL, as Postgres returns) and returns the DSN that reaches it
// through the proxy.
func PostgresViaProxy(tb testing.TB, dsn string) (string, *Proxy) {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		tb.Fatalf("PostgresViaProxy needs a postgres:// URL DSN, got %q", dsn)
	}
	p := NewProxy(tb, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}
