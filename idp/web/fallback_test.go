package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFallbackRendersTheTranslatedPagesAndPassesTheRestThrough(t *testing.T) {
	r := newRenderer(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("the page")) })
	mux.HandleFunc("GET /dir/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("dir")) })
	h := r.Fallback(mux, true)
	for _, tc := range []struct {
		method, path, lang string
		status             int
		want, allow        string
	}{
		{"GET", "/page", "en", 200, "the page", ""},
		{"GET", "/dir", "en", 307, "", ""}, // ServeMux's own redirect passes through
		{"GET", "/nope", "en", 404, "Page not found", ""},
		{"GET", "/nope", "ja", 404, "ページが見つかりません", ""},
		{"POST", "/page", "en", 405, "cannot be used that way", "GET, HEAD"},
		{"DELETE", "/page", "ja", 405, "この操作はできません", "GET, HEAD"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		req.Header.Set("Accept-Language", tc.lang)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		name := tc.method + " " + tc.path + " " + tc.lang
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s: %d Allow %q\n%s", name, w.Code, w.Header().Get("Allow"), w.Body.String())
		}
		if tc.status >= 400 && (w.Header().Get("Content-Security-Policy") != PageCSP || !strings.Contains(w.Body.String(), `<html lang="`+tc.lang+`">`)) {
			t.Errorf("%s: not a page of the layout with the page CSP", name)
		}
	}
	// The language switcher works on the 404 page.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/nope?lang=ja", nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/nope" {
		t.Errorf("?lang=ja on a 404: %d %s", w.Code, w.Header().Get("Location"))
	}
}

func TestMenuInitialAndLabel(t *testing.T) {
	for _, tc := range []struct {
		m              Menu
		initial, label string
	}{
		{Menu{Name: "aiko", Email: "a@example.com"}, "A", "aiko"},
		{Menu{Name: "  ", Email: "ben@example.com"}, "B", "ben@example.com"},
		{Menu{Name: "山田 花子"}, "山", "山田 花子"},
		{Menu{Name: "(x)", Email: ""}, "?", "(x)"},
	} {
		if got := tc.m.Initial(); got != tc.initial {
			t.Errorf("%+v: initial %q, want %q", tc.m, got, tc.initial)
		}
		if got := tc.m.Label(); got != tc.label {
			t.Errorf("%+v: label %q, want %q", tc.m, got, tc.label)
		}
	}
}
