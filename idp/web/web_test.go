package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/text/language"

	"github.com/customerhub/hubid/apperr"
	"github.com/customerhub/hubid/idp/i18n"
	"github.com/customerhub/hubid/store"
)

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(b, Helpdesk{Email: "help@example.com"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTemplatesHaveNoHardCodedText(t *testing.T) {
	found, err := HardCodedText(templateFS)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("hard-coded text: %s", f)
	}
	// The check itself must catch text.
	bad := fstest.MapFS{"templates/x.html": {Data: []byte(`<p>{{.P.T "a"}} Hello</p>`)}}
	if found, _ := HardCodedText(bad); len(found) != 1 {
		t.Fatalf("check missed hard-coded text: %v", found)
	}
}

func TestErrorPageHidesDetailAndIsTranslated(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range []struct {
		err    error
		status int
		lang   language.Tag
		want   string
	}{
		{fmt.Errorf("pg: %w", store.ErrUnavailable), 503, language.English, "temporarily unavailable"},
		{errors.New("secret internal detail"), 500, language.Japanese, "予期しないエラー"},
		{apperr.New(apperr.Forbidden, "x"), 403, language.English, "refused"},
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/login", nil)
		r.Error(w, req, r.Bundle.Printer(tc.lang), tc.err, "")
		body := w.Body.String()
		if w.Code != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%v: status %d, body lacks %q", tc.err, w.Code, tc.want)
		}
		if strings.Contains(body, "secret internal detail") || strings.Contains(body, "store:") {
			t.Errorf("internal detail leaked: %s", body)
		}
		if !strings.Contains(body, "help@example.com") {
			t.Error("helpdesk contact missing")
		}
	}
}

func TestProtectRejectsCrossSitePosts(t *testing.T) {
	h := Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	req := httptest.NewRequest("POST", "/login/password", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", w.Code)
	}
	req = httptest.NewRequest("POST", "/login/password", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 204 || !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("same-origin POST: %d %v", w.Code, w.Header())
	}
}

func TestLangSwitchSetsCookieAndKeepsQuery(t *testing.T) {
	b, _ := i18n.New()
	h := LangSwitch(b, true, http.NotFoundHandler())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/login?authRequestID=abc&lang=ja", nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?authRequestID=abc" {
		t.Fatalf("%d %s", w.Code, w.Header().Get("Location"))
	}
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Value != "ja" || !c[0].Secure {
		t.Fatalf("cookie %v", c)
	}
}

// A storage failure is "temporarily unavailable" (503, Retry-After) on
// every error page, whatever the handler wrapped it in and whatever
// message it asked for: never "this sign-in request has expired", never
// a 400 blaming the service, never a 500.
func TestUnavailableIsNeverExpired(t *testing.T) {
	r := newRenderer(t)
	// Phrases of the "error.expired" and "error.badrequest" messages.
	expired, badRequest := "has expired", "is invalid"
	for key, phrase := range map[string]string{"error.expired": expired, "error.badrequest": badRequest} {
		if !strings.Contains(r.Bundle.Printer(language.English).T(key), phrase) {
			t.Fatalf("%s no longer says %q: update the test", key, phrase)
		}
	}
	errs := map[string]error{
		"store.ErrUnavailable":               store.ErrUnavailable,
		"wrapped ErrUnavailable":             fmt.Errorf("redis get: %w", store.ErrUnavailable),
		"deadline":                           fmt.Errorf("pg: %w", context.DeadlineExceeded),
		"apperr Unavailable":                 apperr.Wrap(apperr.Unavailable, "down", errors.New("dial tcp: refused")),
		"NotFound over ErrUnavailable":       apperr.Wrap(apperr.NotFound, "auth request expired", store.ErrUnavailable),
		"Invalid over a deadline":            apperr.Wrap(apperr.Invalid, "request refused", context.DeadlineExceeded),
		"Invalid over apperr Unavailable":    apperr.Wrap(apperr.Invalid, "deny", fmt.Errorf("op: %w", apperr.New(apperr.Unavailable, "down"))),
		"Forbidden over wrapped Unavailable": apperr.Wrap(apperr.Forbidden, "no such organization", fmt.Errorf("x: %w", store.ErrUnavailable)),
	}
	for name, err := range errs {
		for _, key := range []string{"", "error.expired", "error.badrequest", "error.notfound", "error.internal"} {
			w := httptest.NewRecorder()
			r.Error(w, httptest.NewRequest("POST", "/login/password", nil), r.Bundle.Printer(language.English), err, key)
			body := w.Body.String()
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(body, "temporarily unavailable") {
				t.Errorf("%s, message %q: %d (Retry-After %q), want 503 temporarily unavailable", name, key, w.Code, w.Header().Get("Retry-After"))
			}
			if strings.Contains(body, expired) || strings.Contains(body, badRequest) {
				t.Errorf("%s, message %q: the page says the request expired or was invalid", name, key)
			}
		}
	}
	// The override is for backend failures only: a real expiry stays one.
	w := httptest.NewRecorder()
	r.Error(w, httptest.NewRequest("GET", "/login", nil), r.Bundle.Printer(language.English),
		apperr.Wrap(apperr.NotFound, "auth request expired", store.ErrNotFound), "error.expired")
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), expired) {
		t.Errorf("an expired request: %d, want 404 with the expiry message", w.Code)
	}
}
