package web

import (
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
	b, err := i18n.New(Messages)
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
