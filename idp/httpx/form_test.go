package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestForms(t *testing.T) {
	var got url.Values
	var failed error
	h := Forms(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = url.Values{"email": {r.PostFormValue("email")}, "q": {r.FormValue("q")}}
	}), func(w http.ResponseWriter, r *http.Request, err error) {
		failed = err
		w.WriteHeader(AsFormError(err).Status())
	})
	for _, tc := range []struct {
		name, method, query, ctype, body string
		status                           int
		want                             error
	}{
		{"form", "POST", "q=1", FormContentType, "email=a%40example.com", 200, nil},
		{"GET", "GET", "q=1", "", "", 200, nil},
		{"empty POST", "POST", "", "", "", 200, nil},
		{"too large", "POST", "", FormContentType, "email=" + strings.Repeat("x", MaxBody), 413, ErrTooLarge},
		{"multipart", "POST", "", "multipart/form-data; boundary=x", "--x--", 400, ErrContentType},
		{"NUL in body", "POST", "", FormContentType, "email=a%00", 400, ErrBadText},
		{"bad UTF-8 in query", "GET", "q=%ff", "", "", 400, ErrBadText},
		{"malformed query", "GET", "q=%zz", "", "", 400, ErrMalformed},
	} {
		got, failed = nil, nil
		req := httptest.NewRequest(tc.method, "/x?"+tc.query, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || !errors.Is(failed, tc.want) || (tc.want == nil) != (failed == nil) {
			t.Errorf("%s: %d, %v; want %d, %v", tc.name, rec.Code, failed, tc.status, tc.want)
		}
		if tc.name == "form" && (got.Get("email") != "a@example.com" || got.Get("q") != "1") {
			t.Errorf("form values %v", got)
		}
	}
}

// FuzzParseParams: what ParseParams accepts is valid UTF-8 without NUL.
func FuzzParseParams(f *testing.F) {
	f.Add("a=b&c=%00")
	f.Add("email=a%40example.com&x=%ff")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseParams(s)
		if err != nil {
			if AsFormError(err).Status() != http.StatusBadRequest {
				t.Fatalf("status %d", AsFormError(err).Status())
			}
			return
		}
		for k, vs := range v {
			for _, x := range append(vs, k) {
				if !utf8.ValidString(x) || strings.ContainsRune(x, 0) {
					t.Fatalf("accepted %q", x)
				}
			}
		}
	})
}
