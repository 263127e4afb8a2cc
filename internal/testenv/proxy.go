package testenv

import (
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
