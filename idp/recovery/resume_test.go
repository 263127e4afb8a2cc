package recovery

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/store"
)

// oneRequest is an auth request store holding one pending sign-in.
type oneRequest struct{ ar store.AuthRequest }

func (o oneRequest) GetAuthRequest(_ context.Context, id string) (store.AuthRequest, error) {
	if id != o.ar.ID {
		return store.AuthRequest{}, store.ErrNotFound
	}
	return o.ar, nil
}

// The way back lasts as long as the sign-in it leads to: past the
// request's lifetime /reset/done leads to the hub's sign-in.
func TestReturnCookieEndsWithTheSignIn(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		d.AuthRequests = oneRequest{store.AuthRequest{ID: "ar-1", LoginHint: "lena@example.com", CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute)}}
	})
	rec := e.do(http.MethodPost, "/forgot", url.Values{"email": {"lena@example.com"}, "authRequestID": {"ar-1"}})
	e.h.Wait()
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == ReturnCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "ar-1" || !cookie.HttpOnly || !cookie.Secure {
		t.Fatalf("return cookie: %+v", cookie)
	}
	done := func() string {
		return e.do(http.MethodGet, "/reset/done", nil, "Cookie", cookie.Name+"="+cookie.Value).Body.String()
	}
	if page := done(); !strings.Contains(page, `href="/login?authRequestID=ar-1"`) {
		t.Fatalf("within the lifetime: %s", page)
	}
	e.clk.Advance(30 * time.Minute)
	if page := done(); strings.Contains(page, "ar-1") || !strings.Contains(page, `href="/signin"`) {
		t.Fatalf("after the lifetime: %s", page)
	}
}
