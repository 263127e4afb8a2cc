package idp

import (
	"net/http"
	"net/netip"

	"github.com/customerhub/hubid/idp/throttle"
	"github.com/customerhub/hubid/internal/safetext"
	"github.com/customerhub/hubid/store"
)

// requestMeta puts the client's address (after the trusted proxies) and
// User-Agent (cut to 256 bytes) in every request's context, so that each
// audit event written for the request records them, whichever service
// writes it (store.WithRequestMeta).
func requestMeta(next http.Handler, proxies []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := store.WithRequestMeta(r.Context(), throttle.ClientIP(r, proxies), safetext.Cut(r.UserAgent(), 256))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
